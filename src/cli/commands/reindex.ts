import type { BlockLayout } from "../../blocks/layout.ts";
import { memoryFiles } from "../../blocks/memory-file.ts";
import { commitTree, memoryPolicyOf } from "../../blocks/push-check.ts";
import type { MirrorRepair } from "../../db/mirror.ts";
import type { Command } from "../command.ts";
import { BLOCK_LAYOUT_OPTION, blockLayout, DATA_OPTIONS, REPOSITORY_OPTION, SELECTION_OPTIONS } from "../config.ts";
import { withRepositories, type RepositoryData } from "../repositories.ts";

/** Rebuilds of one repository tried before giving up: each loses only to a commit made meanwhile. */
const MAX_ATTEMPTS = 5;

/**
 * Makes the mirror rows of `{org}/{repo}` equal the memory files of main's tip, in a transaction
 * that commits only if no write moved the manifest since the tip was read; undefined when writes
 * kept moving it.
 */
async function reindexRepository(data: RepositoryData, org: string, repo: string, layout: BlockLayout): Promise<MirrorRepair | undefined> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const snapshot = await data.repositories.snapshot(org, repo);
    const tip = snapshot.refs.get(snapshot.head);
    const files = tip === undefined ? [] : memoryFiles(snapshot.objects, commitTree(snapshot.objects, tip), layout, memoryPolicyOf(repo));
    const { generation } = snapshot.manifest;
    const repair = await data.manifests.atGeneration(org, repo, generation, (tx) => data.mirror.reconcile(tx, org, repo, files, tip, generation));
    if (repair) return repair;
  }
  return undefined;
}

export const reindex: Command = {
  name: "reindex",
  summary: "rebuild the SQL mirror of memory files from main's tip (after an import or a layout change), reporting what it fixed",
  args: [],
  options: [...DATA_OPTIONS, ...SELECTION_OPTIONS, REPOSITORY_OPTION, BLOCK_LAYOUT_OPTION],
  notes: "Each row fixed is one line on stdout, `ORG/AGENT: added|changed|removed PATH` (`ORG/repositories/ID: …` for a shared repository). Exit status 1 when a repository kept changing during its rebuild.",
  run: async ({ options, io }) => {
    const layout = blockLayout(options);
    const totals = { repositories: 0, fixed: 0, rows: 0, contended: 0 };
    await withRepositories(options, async (data) => {
      for (const { org, repo } of data.selected) {
        totals.repositories++;
        const repair = await reindexRepository(data, org, repo, layout);
        if (!repair) {
          totals.contended++;
          io.out(`${org}/${repo}: not rebuilt: it kept changing; run reindex again\n`);
          continue;
        }
        const lines = (["added", "changed", "removed"] as const).flatMap((kind) => repair[kind].map((path) => `${org}/${repo}: ${kind} ${path}\n`));
        if (lines.length > 0) totals.fixed++;
        totals.rows += lines.length;
        for (const line of lines) io.out(line);
      }
    });
    io.out(`reindex: ${totals.repositories} repositories, ${totals.fixed} fixed, ${totals.rows} rows rewritten${totals.contended ? `, ${totals.contended} kept changing` : ""}\n`);
    return totals.contended > 0 ? 1 : 0;
  },
};
