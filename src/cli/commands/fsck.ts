import { defaultCodec } from "../../git/codec/index.ts";
import { checkRepository } from "../../repo/fsck.ts";
import type { Command } from "../command.ts";
import { DATA_OPTIONS, REPOSITORY_OPTION, SELECTION_OPTIONS } from "../config.ts";
import { startProgress } from "../progress.ts";
import { withRepositories } from "../repositories.ts";

export const fsck: Command = {
  name: "fsck",
  summary: "check every manifest, pack and index, and that every ref's objects are all there",
  args: [],
  options: [...DATA_OPTIONS, ...SELECTION_OPTIONS, REPOSITORY_OPTION],
  notes: "Exit status 1 when any repository has a problem; each problem is one line on stdout, `ORG/AGENT: what` (`ORG/repositories/ID: what` for a shared repository).",
  run: async ({ options, io }) => {
    let checked = 0;
    let broken = 0;
    await withRepositories(options, async ({ store, manifests, selected }) => {
      const progress = startProgress(io, { label: "Checking repositories", total: selected.length });
      for (const { org, repo } of selected) {
        const check = await checkRepository(store, manifests, defaultCodec, org, repo);
        checked++;
        if (check.problems.length > 0) broken++;
        for (const problem of check.problems) io.out(`${org}/${repo}: ${problem}\n`);
        progress.advance();
      }
      progress.finish();
    });
    io.out(`fsck: ${checked} repositories checked, ${broken} with problems\n`);
    return broken > 0 ? 1 : 0;
  },
};
