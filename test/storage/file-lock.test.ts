import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { StorageError } from "../../src/storage/blob-store.ts";
import { withFileLock } from "../../src/storage/file-lock.ts";
import { tempDir } from "../support/git.ts";

const dir = tempDir("stategit-lock-");
afterAll(dir.cleanup);

/** Resolves once the child process has printed `line`. */
async function waitForLine(stream: ReadableStream<Uint8Array>, line: string): Promise<void> {
  const decoder = new TextDecoder();
  let seen = "";
  for await (const chunk of stream) {
    seen += decoder.decode(chunk, { stream: true });
    if (seen.split("\n").includes(line)) return;
  }
  throw new Error(`child exited without printing ${line}; it printed ${JSON.stringify(seen)}`);
}

test("another process's lock excludes us until that process dies, even by SIGKILL", async () => {
  const lockPath = join(dir.path, "killed.lock");
  const holder = Bun.spawn(["bun", join(import.meta.dir, "lock-holder.ts"), lockPath], { stdout: "pipe", stderr: "inherit" });
  try {
    await waitForLine(holder.stdout, "locked");
    const blocked = await withFileLock(lockPath, async () => "entered", 100).catch((error: unknown) => error);
    expect(blocked).toBeInstanceOf(StorageError);
    expect((blocked as StorageError).code).toBe("storage.lock");
  } finally {
    holder.kill("SIGKILL");
    await holder.exited;
  }
  expect(await withFileLock(lockPath, async () => "entered")).toBe("entered");
});

test("callers in one process take turns, and a failing holder releases the lock", async () => {
  const lockPath = join(dir.path, "turns.lock");
  let inside = 0;
  let mostInside = 0;
  const results = await Promise.allSettled(
    Array.from({ length: 12 }, (_, i) =>
      withFileLock(lockPath, async () => {
        mostInside = Math.max(mostInside, ++inside);
        await Bun.sleep(1);
        inside--;
        if (i % 3 === 0) throw new Error(`holder ${i} failed`);
        return i;
      }),
    ),
  );
  expect(mostInside).toBe(1);
  expect(results.filter((result) => result.status === "rejected").length).toBe(4);
  expect(await withFileLock(lockPath, async () => "after")).toBe("after");
});
