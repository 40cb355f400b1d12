// A separate process for test/storage/file.test.ts: increments a counter blob by compare-and-swap
// and prints, as JSON, each of its successful swaps as [generation it started from, generation it wrote].
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FileBlobStore } from "../../src/storage/file.ts";

const [root, key, id, increments] = process.argv.slice(2);
const store = new FileBlobStore(root);
writeFileSync(join(root, `ready-${id}`), "");
while (!existsSync(join(root, "go"))) await Bun.sleep(2);

const wins: [string, string][] = [];
let lost = 0;
while (wins.length < Number(increments)) {
  const current = await store.get(key);
  const count = current ? Number(new TextDecoder().decode(current.data)) : 0;
  const expected = current?.generation ?? null;
  const written = await store.compareAndSwap(key, new TextEncoder().encode(String(count + 1)), expected);
  if (written === undefined) lost++;
  else wins.push([expected ?? "none", written]);
}
console.log(JSON.stringify({ wins, lost }));
