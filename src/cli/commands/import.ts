import { openDatabase } from "../../db/open.ts";
import { deploymentRepositories } from "../../db/repositories.ts";
import { DEFAULT_MAX_REPOSITORY_BYTES, importRepositories, type ImportOutcome, type RepositoryReport } from "../../repo/import.ts";
import { openStore, parseStoreUrl, STORE_URL_FORMS } from "../../storage/open.ts";
import { usage, type Command } from "../command.ts";
import { startProgress } from "../progress.ts";
import { BLOCK_LAYOUT_OPTION, blockLayout, DATA_OPTIONS, dataConfig, positiveInteger, selection, SELECTION_OPTIONS } from "../config.ts";

/** Repositories are imported one after the other: none needs to stay cached after its turn. */
const IMPORT_CACHE_BYTES = 64 * 1024 * 1024;

const OUTCOME_ORDER: readonly ImportOutcome[] = ["imported", "updated", "up to date", "nothing to import", "failed", "skipped"];

function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

/** One line for the repository, then one indented line per ref left out and per note. */
function formatReport(report: RepositoryReport): string {
  const detail =
    report.outcome === "imported" || report.outcome === "updated"
      ? `: ${plural(report.refs, "ref")}, ${plural(report.objects, "object")}`
      : report.reason !== undefined
        ? `: ${report.reason}`
        : "";
  const lines = [`${report.outcome} ${report.id}${detail}`];
  for (const { name, reason } of report.skippedRefs) lines.push(`  skipped ${name}: ${reason}`);
  for (const note of report.notes) lines.push(`  note: ${note}`);
  return `${lines.join("\n")}\n`;
}

function formatSummary(reports: readonly RepositoryReport[], from: string): string {
  if (reports.length === 0) return `no repositories (ORG/AGENT/repo.git/) found under ${from}\n`;
  const counts = OUTCOME_ORDER.map((outcome) => [outcome, reports.filter((report) => report.outcome === outcome).length] as const)
    .filter(([, count]) => count > 0)
    .map(([outcome, count]) => `${count} ${outcome}`);
  const skippedRefs = reports.reduce((sum, report) => sum + report.skippedRefs.length, 0);
  return `${plural(reports.length, "repository", "repositories")}${counts.length > 0 ? `: ${counts.join(", ")}` : ""}${skippedRefs > 0 ? `; ${plural(skippedRefs, "ref")} skipped` : ""}\n`;
}

export const importCommand: Command = {
  name: "import",
  summary: "import the previous service's repositories (.git directories under ORG/AGENT/repo.git/)",
  args: [],
  options: [
    { name: "from", value: "URL", description: `where the .git directories are: ${STORE_URL_FORMS}` },
    ...SELECTION_OPTIONS,
    {
      name: "max-repository-bytes",
      value: "N",
      default: String(DEFAULT_MAX_REPOSITORY_BYTES),
      description: "a source repository whose files are larger fails unread (it is held in memory, several times over)",
    },
    ...DATA_OPTIONS,
    BLOCK_LAYOUT_OPTION,
  ],
  notes: [
    "Each repository is written in one transaction: an interrupted import leaves every repository",
    "done or untouched, and running it again continues. A repository imported before is compared",
    "ref by ref: equal refs are left alone, refs that differ are moved to the source's values.",
    "Refs whose objects are missing, and refs stategit cannot hold, are skipped and listed.",
    "stategit's HEAD is refs/heads/main; a source HEAD naming another branch is reported.",
    "The push limits on object count and inflated bytes are raised for an import (memory bounds it);",
    "the largest object and the deepest delta chain stay those every repository is read with.",
    "Exit status: 0 when no repository failed (skipped refs included), 1 otherwise, 2 bad usage.",
  ].join("\n"),
  run: async ({ options, io }) => {
    const from = options.string("from");
    usage(() => parseStoreUrl(from));
    const { org, repo: agent } = selection(options);
    const maxRepositoryBytes = positiveInteger("max-repository-bytes", options.string("max-repository-bytes"));
    const { storageUrl, databaseUrl } = dataConfig(options);
    const db = await openDatabase(databaseUrl);
    try {
      const repositories = deploymentRepositories(db, openStore(storageUrl), blockLayout(options), {
        cacheBytes: IMPORT_CACHE_BYTES,
        compaction: false,
      });
      const progress = startProgress(io, { label: "Importing repositories" });
      const reports = await importRepositories(openStore(from), repositories, {
        org,
        agent,
        maxRepositoryBytes,
        onFound: (count) => progress.setTotal(count),
        onReport: (report) => {
          progress.clear();
          io.out(formatReport(report));
          progress.advance();
        },
      });
      progress.finish();
      io.out(formatSummary(reports, from));
      return reports.some((report) => report.outcome === "failed") ? 1 : 0;
    } finally {
      await db.close();
    }
  },
};
