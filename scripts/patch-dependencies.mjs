// Runs after `npm ci`/`npm install` (package.json "postinstall"), with Node: fixes known defects of
// dependencies that upstream has not released a fix for. Each patch replaces one exact piece of
// text; when neither the original nor the patched text is found (the dependency changed), the
// install fails, so that someone looks whether the patch is still needed.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");

const patches = [
  {
    // postgres.js 3.4.9: a write deferred with setImmediate, or issued by a transaction's body after
    // its connection closed, dereferences the null socket and throws an uncatchable TypeError that
    // ends the process (porsager/postgres#1154, #1208; the fix of open PR #1209). Fail the
    // connection's queries instead, so their callers see CONNECTION_CLOSED.
    why: "postgres.js: a write on a closed connection crashes the process",
    files: ["src/connection.js", "cjs/src/connection.js", "cf/src/connection.js"].map((file) => join("node_modules/postgres", file)),
    original: "  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)\n",
    patched:
      "  function nextWrite(fn) {\n" +
      "    if (!socket) { // patched by stategit (porsager/postgres#1208)\n" +
      "      nextWriteTimer !== null && clearImmediate(nextWriteTimer)\n" +
      "      chunk = nextWriteTimer = null\n" +
      "      error(Errors.connection('CONNECTION_CLOSED', options))\n" +
      "      return false\n" +
      "    }\n" +
      "    const x = socket.write(chunk, fn)\n",
  },
];

for (const patch of patches) {
  for (const file of patch.files) {
    const path = join(root, file);
    const text = readFileSync(path, "utf8");
    if (text.includes(patch.patched)) continue;
    if (!text.includes(patch.original)) {
      console.error(`patch-dependencies: ${file} changed; check whether "${patch.why}" still needs the patch`);
      process.exit(1);
    }
    writeFileSync(path, text.replace(patch.original, patch.patched));
    console.log(`patch-dependencies: ${file}: ${patch.why}`);
  }
}
