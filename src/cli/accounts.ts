import { Accounts } from "../db/accounts.ts";
import type { SqlAdapter } from "../db/adapter.ts";
import { openDatabase } from "../db/open.ts";
import type { Options } from "./command.ts";
import { dataConfig } from "./config.ts";

/** Opens the configured database for one administration command, and closes it after. */
export async function withDatabase<T>(options: Options, fn: (db: SqlAdapter) => Promise<T>): Promise<T> {
  const db = await openDatabase(dataConfig(options).databaseUrl);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

export function withAccounts<T>(options: Options, fn: (accounts: Accounts) => Promise<T>): Promise<T> {
  return withDatabase(options, (db) => fn(new Accounts(db)));
}
