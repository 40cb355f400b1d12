import type { RepositorySnapshot } from "./snapshot.ts";

/**
 * Answers made from the refs alone — the ref advertisement, `ls-refs` — kept with the snapshot
 * they were made from: every up-to-date fetch of an unchanged repository asks the same question,
 * and sorting, peeling and framing the refs again was a tenth of such a request's handling. A
 * snapshot is never mutated, so its answers stay right for as long as it lives (WeakMap: they die
 * with it). A few per snapshot: the keys come from the request, and a client must not be able to
 * grow them without bound.
 */
const MAX_ANSWERS_PER_SNAPSHOT = 16;

const answers = new WeakMap<RepositorySnapshot, Map<string, Uint8Array>>();

/** The answer remembered for `snapshot` and the question `key`. The bytes are shared: never modify them. */
export function knownAnswer(snapshot: RepositorySnapshot, key: string): Uint8Array | undefined {
  return answers.get(snapshot)?.get(key);
}

/** Remembers `answer` (unless the snapshot has enough already) and returns it. */
export function rememberAnswer(snapshot: RepositorySnapshot, key: string, answer: Uint8Array): Uint8Array {
  let known = answers.get(snapshot);
  if (known === undefined) answers.set(snapshot, (known = new Map()));
  if (known.size < MAX_ANSWERS_PER_SNAPSHOT) known.set(key, answer);
  return answer;
}

/** `snapshot`'s answer to the question `key`, made by `make` the first time. The bytes are shared: never modify them. */
export function snapshotAnswer(snapshot: RepositorySnapshot, key: string, make: () => Uint8Array): Uint8Array {
  return knownAnswer(snapshot, key) ?? rememberAnswer(snapshot, key, make());
}
