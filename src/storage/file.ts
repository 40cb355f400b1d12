import { createHash, randomBytes } from "node:crypto";
import type { BigIntStats } from "node:fs";
import { link, mkdir, open, readdir, rename, stat, unlink } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import {
  checkKey,
  checkPrefix,
  GenerationClock,
  generationTime,
  sortByKey,
  StorageError,
  type BlobStore,
  type ListedBlob,
  type StoredBlob,
} from "./blob-store.ts";
import { withFileLock } from "./file-lock.ts";

/**
 * Blobs as files under a directory (`file:PATH`), safe for several processes on one machine.
 *
 * A blob's generation is its modification time in microseconds, set on the temporary file before
 * it is linked or renamed into place: the file and its generation appear in one atomic step, a
 * reader gets both from one open file, and `generation` needs only a stat. Writes go to a
 * temporary file first, which is fsynced with its directory before success is reported, so a
 * crash leaves either the old blob or the new one, plus at most an invisible temporary file.
 */
export class FileBlobStore implements BlobStore {
  readonly root: string;
  private readonly tempDir: string;
  private readonly lockDir: string;
  private readonly clock = new GenerationClock();
  private prepared: Promise<void> | undefined;

  constructor(root: string) {
    this.root = resolve(root);
    this.tempDir = join(this.root, INTERNAL_DIR, "tmp");
    this.lockDir = join(this.root, INTERNAL_DIR, "locks");
  }

  async get(key: string): Promise<StoredBlob | undefined> {
    const file = await openIfFile(this.pathOf(key));
    if (!file) return undefined;
    try {
      return { data: await file.handle.readFile(), generation: generationOf(file.stats) };
    } finally {
      await file.handle.close();
    }
  }

  async generation(key: string): Promise<string | undefined> {
    const stats = await statIfFile(this.pathOf(key));
    return stats && generationOf(stats);
  }

  async createOnly(key: string, data: Uint8Array): Promise<boolean> {
    const path = this.pathOf(key);
    const temp = await this.writeTemp(data, this.clock.next());
    return this.install(temp, path, "create");
  }

  async compareAndSwap(key: string, data: Uint8Array, expected: string | null): Promise<string | undefined> {
    const path = this.pathOf(key);
    return this.withKeyLock(key, async () => {
      const current = (await this.generation(key)) ?? null;
      if (current !== expected) return undefined;
      const generation = this.clock.next(current ?? undefined);
      const temp = await this.writeTemp(data, generation);
      // Without a current blob, link: a concurrent createOnly (which takes no lock) must not be overwritten.
      const installed = await this.install(temp, path, current === null ? "create" : "replace");
      return installed ? generation : undefined;
    });
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    await this.withKeyLock(key, async () => {
      try {
        await unlink(path);
      } catch (error) {
        if (errorCode(error) === "ENOENT") return;
        throw error;
      }
      await syncDirectory(dirname(path));
    });
  }

  async list(prefix: string): Promise<ListedBlob[]> {
    checkPrefix(prefix);
    const listed: ListedBlob[] = [];
    const walk = async (dirKey: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(join(this.root, dirKey), { withFileTypes: true });
      } catch (error) {
        if (isMissing(error)) return;
        throw error;
      }
      for (const entry of entries) {
        if (entry.name.startsWith(".")) continue;
        const key = dirKey + entry.name;
        if (entry.isDirectory()) {
          const childDirKey = `${key}/`;
          if (childDirKey.startsWith(prefix) || prefix.startsWith(childDirKey)) await walk(childDirKey);
        } else if (entry.isFile() && key.startsWith(prefix)) {
          const stats = await statIfFile(join(this.root, key));
          if (stats) listed.push({ key, updated: generationTime(generationOf(stats)) });
        }
      }
    };
    await walk(prefix.slice(0, prefix.lastIndexOf("/") + 1));
    return sortByKey(listed);
  }

  private pathOf(key: string): string {
    return join(this.root, checkKey(key));
  }

  private withKeyLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const lockName = `${createHash("sha256").update(key).digest("hex")}.lock`;
    return this.prepare().then(() => withFileLock(join(this.lockDir, lockName), fn));
  }

  /** Creates the internal directories once (retrying after a failure), and removes temporary files crashed writers left. */
  private prepare(): Promise<void> {
    this.prepared ??= (async () => {
      await makeDirectory(this.tempDir);
      await makeDirectory(this.lockDir);
      const cutoff = Date.now() - ABANDONED_TEMP_AGE_MS;
      for (const name of await readdir(this.tempDir)) {
        const path = join(this.tempDir, name);
        const stats = await stat(path).catch(() => undefined);
        if (stats && stats.ctimeMs < cutoff) await unlink(path).catch(() => undefined);
      }
    })().catch((error: unknown) => {
      this.prepared = undefined;
      throw error;
    });
    return this.prepared;
  }

  /** A durable temporary file holding `data`, with `generation` as its modification time. */
  private async writeTemp(data: Uint8Array, generation: string): Promise<string> {
    await this.prepare();
    const path = join(this.tempDir, `${process.pid}-${randomBytes(8).toString("hex")}`);
    const handle = await open(path, "wx");
    try {
      await handle.writeFile(data);
      const seconds = Number(generation) / 1e6;
      await handle.utimes(seconds, seconds);
      await handle.sync();
      if (generationOf(await handle.stat({ bigint: true })) !== generation) {
        throw new StorageError("storage.clock", `the file system under ${this.root} does not keep microsecond modification times`);
      }
    } catch (error) {
      await unlink(path).catch(() => undefined);
      throw error;
    } finally {
      await handle.close();
    }
    return path;
  }

  /**
   * Moves a temporary file to `path`: "create" links it (atomic, fails when `path` exists),
   * "replace" renames it over the old blob. Returns false when "create" found `path` taken.
   */
  private async install(temp: string, path: string, mode: "create" | "replace"): Promise<boolean> {
    try {
      await makeDirectory(dirname(path));
      if (mode === "replace") {
        await rename(temp, path);
      } else {
        try {
          await link(temp, path);
        } catch (error) {
          if (errorCode(error) === "EEXIST") return false;
          throw error;
        }
      }
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    await syncDirectory(dirname(path));
    return true;
  }
}

const INTERNAL_DIR = ".stategit";
const ABANDONED_TEMP_AGE_MS = 24 * 60 * 60 * 1000;

/** Microseconds, rounded: set from a double, the nanoseconds may be off by a fraction of one. */
function generationOf(stats: BigIntStats): string {
  return ((stats.mtimeNs + 500n) / 1000n).toString();
}

async function openIfFile(path: string) {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  const stats = await handle.stat({ bigint: true });
  if (stats.isFile()) return { handle, stats };
  await handle.close();
  return undefined;
}

async function statIfFile(path: string): Promise<BigIntStats | undefined> {
  try {
    const stats = await stat(path, { bigint: true });
    return stats.isFile() ? stats : undefined;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/** mkdir -p, fsyncing the parent of every directory it creates so the new entries are durable. */
async function makeDirectory(path: string): Promise<void> {
  const first = await mkdir(path, { recursive: true });
  if (first === undefined) return;
  for (let dir = path; ; dir = dirname(dir)) {
    await syncDirectory(dirname(dir));
    if (dir === first) return;
  }
}

async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as { code?: string } | null)?.code;
}

/** ENOTDIR: a key below a blob ("a/b" when "a" is a file) is missing too. */
function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === "ENOENT" || code === "ENOTDIR";
}
