import type { Command } from "../command.ts";
import { DATA_OPTIONS, GRACE_PERIOD_OPTION, gracePeriod, REPOSITORY_OPTION, SELECTION_OPTIONS } from "../config.ts";
import { startProgress } from "../progress.ts";
import { withRepositories } from "../repositories.ts";

export const gc: Command = {
  name: "gc",
  summary: "compact repositories now: one pack each, unreachable objects and unnamed files past the grace period removed",
  args: [],
  options: [...DATA_OPTIONS, ...SELECTION_OPTIONS, REPOSITORY_OPTION, GRACE_PERIOD_OPTION],
  run: async ({ options, io }) => {
    const gracePeriodMs = gracePeriod(options);
    const totals = { repositories: 0, merged: 0, dropped: 0, deleted: 0 };
    await withRepositories(options, async ({ repositories, manifests, selected }) => {
      const progress = startProgress(io, { label: "Compacting repositories", total: selected.length });
      for (const { org, repo } of selected) {
        const result = await repositories.compact(org, repo, { maxPacks: 1, gracePeriodMs, force: true });
        await manifests.pruneCommitLog(org, repo);
        totals.repositories++;
        totals.merged += result.mergedPacks;
        totals.dropped += result.droppedObjects;
        totals.deleted += result.deleted.length;
        if (result.mergedPacks > 0 || result.deleted.length > 0) {
          io.out(`${org}/${repo}: merged ${result.mergedPacks} packs, dropped ${result.droppedObjects} unreachable objects, deleted ${result.deleted.length} files\n`);
        }
        progress.advance();
      }
      progress.finish();
    });
    io.out(`gc: ${totals.repositories} repositories, ${totals.merged} packs merged, ${totals.dropped} unreachable objects dropped, ${totals.deleted} files deleted\n`);
  },
};
