import { Accounts } from "../db/accounts.ts";
import { ManifestStore } from "../db/manifests.ts";
import { MemoryMirror } from "../db/mirror.ts";
import { openDatabase } from "../db/open.ts";
import { SharedRepositories } from "../db/shared-repositories.ts";
import { Repositories } from "../repo/repository.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { openStore } from "../storage/open.ts";
import type { Options } from "./command.ts";
import { dataConfig, selection } from "./config.ts";

export interface RepositoryData {
  store: BlobStore;
  manifests: ManifestStore;
  repositories: Repositories;
  mirror: MemoryMirror;
  shared: SharedRepositories;
  accounts: Accounts;
  /** The repositories `--org`/`--agent` select, sorted; every one with a manifest row when neither is given. */
  selected: { org: string; repo: string }[];
}

/** Opens the configured storage and database for one maintenance command, and closes them after. */
export async function withRepositories<T>(options: Options, fn: (data: RepositoryData) => Promise<T>): Promise<T> {
  const { storageUrl, databaseUrl } = dataConfig(options);
  const filter = selection(options);
  const db = await openDatabase(databaseUrl);
  try {
    const store = openStore(storageUrl);
    const manifests = new ManifestStore(db);
    const repositories = new Repositories(store, manifests, { compaction: false });
    return await fn({ store, manifests, repositories, mirror: new MemoryMirror(db), shared: new SharedRepositories(db), accounts: new Accounts(db), selected: await manifests.list(filter) });
  } finally {
    await db.close();
  }
}
