import { randomBytes } from "node:crypto";
import type { Stats } from "node:fs";
import { link, mkdir, open, readdir, stat, unlink, utimes } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { checkKey, checkPrefix, sortByKey, type BlobStore, type ListedBlob } from "./blob-store.ts";

/**
 * Blobs as files under a directory (`file:PATH`), safe for several processes on one machine.
 *
 * A blob is written to a temporary file, fsynced, then linked into place: `link` fails when the
 * name exists, so creation is atomic and create-only without any lock, and a crash leaves either
 * no blob or the whole blob, plus at most an invisible temporary file. The new entry's directory
 * is fsynced before success is reported.
 */
export class FileBlobStore implements BlobStore {
  readonly root: string;
  private readonly tempDir: string;
  private prepared: Promise<void> | undefined;

  constructor(root: string) {
    this.root = resolve(root);
    this.tempDir = join(this.root, INTERNAL_DIR, "tmp");
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    let handle;
    try {
      handle = await open(this.pathOf(key), "r");
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    try {
      if (!(await handle.stat()).isFile()) return undefined;
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  async createOnly(key: string, data: Uint8Array): Promise<boolean> {
    const path = this.pathOf(key);
    const temp = await this.writeTemp(data);
    try {
      await makeDirectory(dirname(path));
      for (;;) {
        try {
          await link(temp, path);
          break;
        } catch (error) {
          if (errorCode(error) !== "EEXIST") throw error;
        }
        // The update time listed is the file's mtime. A file deleted meanwhile is created again.
        if (await freshen(path)) return false;
      }
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    await syncDirectory(dirname(path));
    return true;
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    await syncDirectory(dirname(path));
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
          if (stats) listed.push({ key, updated: stats.mtime, size: stats.size });
        }
      }
    };
    await walk(prefix.slice(0, prefix.lastIndexOf("/") + 1));
    return sortByKey(listed);
  }

  async ping(): Promise<void> {
    await this.prepare();
  }

  private pathOf(key: string): string {
    return join(this.root, checkKey(key));
  }

  /** Creates the temporary directory once (retrying after a failure), and removes temporary files crashed writers left. */
  private prepare(): Promise<void> {
    this.prepared ??= (async () => {
      await makeDirectory(this.tempDir);
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

  /** A durable temporary file holding `data`. */
  private async writeTemp(data: Uint8Array): Promise<string> {
    await this.prepare();
    const path = join(this.tempDir, `${process.pid}-${randomBytes(8).toString("hex")}`);
    const handle = await open(path, "wx");
    try {
      await handle.writeFile(data);
      await handle.sync();
    } catch (error) {
      await unlink(path).catch(() => undefined);
      throw error;
    } finally {
      await handle.close();
    }
    return path;
  }
}

const INTERNAL_DIR = ".stategit";
const ABANDONED_TEMP_AGE_MS = 24 * 60 * 60 * 1000;

async function statIfFile(path: string): Promise<Stats | undefined> {
  try {
    const stats = await stat(path);
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
/** Sets the file's times to now; false when it does not exist. */
async function freshen(path: string): Promise<boolean> {
  const now = new Date();
  try {
    await utimes(path, now, now);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === "ENOENT" || code === "ENOTDIR";
}
