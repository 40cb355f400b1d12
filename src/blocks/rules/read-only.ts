/**
 * v1 `read_only` protection (Letta Code's hook, validateMemoryFileFrontmatter, with the previous
 * content from HEAD). A file is read-only when the hook reads its `read_only` as exactly "true".
 * An `--admin` key may break all of these. stategit is stricter in one documented way: it also
 * refuses deleting a read-only file, and so renaming it (the hook checks only added and modified files).
 */
import { isSubmodule } from "../changes.ts";
import { decodeText, hookKeyValue } from "../front-matter.ts";
import { frontMatterFiles } from "./front-matter.ts";
import { inFrontMatterScope, type CheckContext, type CheckedFile } from "./context.ts";
import type { BlockRule, Finding } from "./rule.ts";

const HOOK = "Letta Code pre-commit hook, validateMemoryFileFrontmatter (v1)";
const READ_ONLY = "read_only";

/** The hook tests `if (!previousContent)`: an empty previous file counts as no previous file. */
function previousText(file: CheckedFile): string | undefined {
  return file.previousText() || undefined;
}

function isReadOnly(text: string | undefined): boolean {
  return text !== undefined && hookKeyValue(text, READ_ONLY) === "true";
}

/** One finding per checked file for which `reason` gives one. */
function fileFindings(context: CheckContext, reason: (file: CheckedFile) => string | undefined): Finding[] {
  return frontMatterFiles(context).flatMap((file) => {
    const text = reason(file);
    return text ? [{ path: file.path, reason: text }] : [];
  });
}

/** The values of the file's `read_only` key lines, as the hook reads them. */
function readOnlyValues(file: CheckedFile): string[] {
  return file.keys().filter(({ key }) => key === READ_ONLY).map(({ value }) => value);
}

export const READ_ONLY_RULES: readonly BlockRule[] = [
  {
    code: "read-only.modified",
    source: HOOK,
    formats: ["v1"],
    adminMayOverride: true,
    check: (context) => fileFindings(context, (file) => (isReadOnly(previousText(file)) ? "file is read_only and cannot be modified" : undefined)),
  },
  {
    code: "read-only.set",
    source: HOOK,
    formats: ["v1"],
    adminMayOverride: true,
    check: (context) =>
      fileFindings(context, (file) =>
        previousText(file) === undefined && readOnlyValues(file).length > 0 ? "'read_only' is a protected field and cannot be set by the agent" : undefined,
      ),
  },
  {
    code: "read-only.changed",
    source: HOOK,
    formats: ["v1"],
    adminMayOverride: true,
    check: (context) =>
      fileFindings(context, (file) => {
        const previous = previousText(file);
        if (previous === undefined) return undefined;
        const before = hookKeyValue(previous, READ_ONLY);
        return readOnlyValues(file).some((value) => value !== before) ? "'read_only' is a protected field and cannot be changed by the agent" : undefined;
      }),
  },
  {
    code: "read-only.removed",
    source: HOOK,
    formats: ["v1"],
    adminMayOverride: true,
    check: (context) =>
      fileFindings(context, (file) =>
        file.frontMatter().kind === "present" && hookKeyValue(previousText(file), READ_ONLY) && !hookKeyValue(file.text(), READ_ONLY)
          ? "'read_only' is a protected field and cannot be removed by the agent"
          : undefined,
      ),
  },
  {
    code: "read-only.deleted",
    source: "stategit (DESIGN.md, Blocks): a read-only file cannot be deleted or renamed; the hook does not check deletions",
    formats: ["v1"],
    adminMayOverride: true,
    check: (context) =>
      context.changes.flatMap(({ path, old, new: next }) =>
        old && !next && !isSubmodule(old) && inFrontMatterScope(context, path) && isReadOnly(decodeText(context.old.bytes(old)))
          ? [{ path, reason: "file is read_only and cannot be deleted or renamed" }]
          : [],
      ),
  },
];
