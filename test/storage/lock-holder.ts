// A separate process for test/storage/file-lock.test.ts: takes the lock, says so, and holds it
// until it is killed.
import { withFileLock } from "../../src/storage/file-lock.ts";

await withFileLock(process.argv[2], async () => {
  console.log("locked");
  await new Promise(() => setInterval(() => {}, 60_000));
});
