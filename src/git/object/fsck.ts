/**
 * Object validation as strict as git's `receive.fsckObjects` / `git fsck --strict` for a single
 * object (fsck.c fsck_object): what git rejects is rejected with CorruptDataError code
 * "fsck.<msgId>" (git's message id). Checks that need other objects (gitmodules contents,
 * connectivity) belong to the callers that have them.
 */
import { fsckCommit } from "./commit.ts";
import type { ObjectType } from "./object.ts";
import { fsckTag } from "./tag.ts";
import { fsckTree } from "./tree.ts";

export function fsckObject(type: ObjectType, data: Uint8Array): void {
  switch (type) {
    case "blob":
      return;
    case "tree":
      return fsckTree(data);
    case "commit":
      return fsckCommit(data);
    case "tag":
      return fsckTag(data);
  }
}
