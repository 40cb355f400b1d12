import { commitTreeAndParents, type ObjectReader } from "../git/object/index.ts";
import type { Oid } from "../git/oid.ts";
import { allReachable } from "../git/walk/ancestry.ts";

/** How a `have` line was received (git's upload-pack.c, got_oid). */
export const enum HaveResult {
  /** We do not have the object: the client has something we lack. */
  Unknown = -1,
  /** We have it, and knew the client had it (it is a parent of an earlier have). */
  AlreadyKnown = 0,
  /** We have it and learnt that the client does: a new common object. */
  Common = 1,
}

/**
 * What the client has told us it has, across one request's `have` lines: the common objects
 * (git's have_obj, which exclude their history from the pack) and every have we hold, whose
 * commits and their parents are what the client is known to have (git's THEY_HAVE).
 */
export class HaveSet {
  /** Common objects, in the order first announced. */
  readonly common: Oid[] = [];
  private readonly present: Oid[] = [];
  private readonly theyHave = new Set<Oid>();

  constructor(private readonly reader: ObjectReader) {}

  add(oid: Oid): HaveResult {
    if (!this.reader.hasObject(oid)) return HaveResult.Unknown;
    this.present.push(oid);
    const object = this.reader.readObject(oid);
    if (object?.type === "commit") {
      for (const parent of commitTreeAndParents(object.data).parents) this.theyHave.add(parent);
    }
    if (this.theyHave.has(oid)) return HaveResult.AlreadyKnown;
    this.theyHave.add(oid);
    this.common.push(oid);
    return HaveResult.Common;
  }

  /**
   * Whether every want reaches something the client has, so negotiation can stop (git's
   * ok_to_give_up). Every have we hold counts, already-known ones included: git dates its
   * walk cutoff by all of them.
   */
  okToGiveUp(wants: readonly Oid[]): boolean {
    return allReachable(this.reader, wants, this.present);
  }
}
