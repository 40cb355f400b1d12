/**
 * A generated history for the walk tests, built with `git fast-import` from a seeded stream:
 * a main line with topic branches merged back (and some left open), deletions and re-additions
 * of the same content, copies, nested directories, an executable, a symlink and a gitlink,
 * commits sharing a timestamp, annotated and lightweight tags, a nested tag and a tag of a blob.
 * Built once per machine under the temp directory, then reused.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { git, gitText } from "../../support/git.ts";
import { seededRandom } from "../../support/random.ts";

const HISTORY_VERSION = 1;
const WORDS = "agent memory block state value label human persona skill system tool note plan goal task fact".split(" ");

export interface HistoryShape {
  commits: number;
  files: number;
  /** Files edited by each main-line commit. */
  edits: number;
  /** Start a topic branch every this many main-line commits (0 for none). */
  topicEvery: number;
  /** Date every this many commits three hours in the past: clock skew (0 for none). */
  skewEvery?: number;
}

type Files = Map<string, string>;

function stream(shape: HistoryShape): Uint8Array {
  const random = seededRandom(99);
  const encoder = new TextEncoder();
  const parts: string[] = [];
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const line = () => Array.from({ length: 6 }, () => pick(WORDS)).join(" ");
  const data = (text: string) => parts.push(`data ${encoder.encode(text).length}\n${text}\n`);
  let mark = 0;
  let time = 1_700_000_000;
  const commit = (ref: string, files: Files, changes: Files, options: { from?: number; merge?: number; deletes?: string[]; extra?: string[] } = {}): number => {
    mark++;
    // Every 13th commit shares its parent's timestamp: rev-list's tie order matters then.
    if (mark % 13 !== 0) time += 60;
    const skewed = shape.skewEvery && mark % shape.skewEvery === 0 ? time - 3 * 3600 : time;
    parts.push(`commit ${ref}\nmark :${mark}\ncommitter Walk <walk@example.com> ${skewed} +0000\n`);
    data(`commit ${mark}\n`);
    if (options.from !== undefined) parts.push(`from :${options.from}\n`);
    if (options.merge !== undefined) parts.push(`merge :${options.merge}\n`);
    for (const path of options.deletes ?? []) {
      parts.push(`D ${path}\n`);
      files.delete(path);
    }
    for (const [path, content] of changes) {
      parts.push(`M ${path.endsWith(".sh") ? "100755" : "100644"} inline ${path}\n`);
      data(content);
      files.set(path, content);
    }
    parts.push(...(options.extra ?? []), "\n");
    return mark;
  };
  const edit = (files: Files, count: number): Files => {
    const changes: Files = new Map();
    const paths = [...files.keys()];
    for (let i = 0; i < count; i++) {
      const path = pick(paths);
      const lines = (changes.get(path) ?? (files.get(path) as string)).split("\n");
      lines[Math.floor(random() * lines.length)] = line();
      changes.set(path, lines.join("\n"));
    }
    return changes;
  };

  const main: Files = new Map();
  const initial: Files = new Map();
  for (let i = 0; i < shape.files; i++) {
    const depth = i % 4;
    const dir = ["", "notes/", "notes/deep/", `area${i % 7}/sub${i % 3}/`][depth];
    initial.set(`${dir}file${i}${i % 17 === 0 ? ".sh" : ".md"}`, Array.from({ length: 12 }, line).join("\n"));
  }
  let tip = commit("refs/heads/main", main, initial);
  tip = commit("refs/heads/main", main, new Map(), {
    from: tip,
    extra: ["M 120000 inline link\n", "data 9\nfile0.md\n", `M 160000 ${"ab".repeat(20)} vendor/module\n`],
  });
  const open: { ref: string; files: Files; tip: number; mergeAt: number }[] = [];
  const removed = new Map<string, string>();
  let topics = 0;
  for (let n = 2; n < shape.commits; n++) {
    const deletes: string[] = [];
    const changes = edit(main, shape.edits);
    if (n % 11 === 0) {
      const path = pick([...main.keys()].filter((candidate) => !changes.has(candidate)));
      removed.set(path, main.get(path) as string);
      deletes.push(path);
    }
    if (n % 11 === 5 && removed.size > 0) {
      // Re-adds a deleted file with its old content: the same blob as in older history.
      const [path, content] = [...removed][0];
      removed.delete(path);
      changes.set(path, content);
    }
    if (n % 23 === 0) changes.set(`copies/copy${n}.md`, main.get(pick([...main.keys()])) as string);
    const merging = open.find((topic) => topic.mergeAt === n);
    if (merging) {
      for (const [path, content] of merging.files) if (main.get(path) !== content && !deletes.includes(path)) changes.set(path, content);
      tip = commit("refs/heads/main", main, changes, { from: tip, merge: merging.tip, deletes });
      open.splice(open.indexOf(merging), 1);
    } else {
      tip = commit("refs/heads/main", main, changes, { from: tip, deletes });
    }
    for (const topic of open) {
      if (random() < 0.5) topic.tip = commit(topic.ref, topic.files, edit(topic.files, 1), { from: topic.tip });
    }
    if (shape.topicEvery > 0 && n % shape.topicEvery === 0) {
      const ref = `refs/heads/topic${topics++}`;
      const files: Files = new Map(main);
      const first = commit(ref, files, edit(files, 2), { from: tip });
      // Two of three topics are merged back some commits later.
      open.push({ ref, files, tip: first, mergeAt: topics % 3 === 0 ? -1 : n + 3 + Math.floor(random() * 8) });
    }
    if (n % 50 === 0) {
      parts.push(`tag v${n}\nfrom :${tip}\ntagger Walk <walk@example.com> ${time} +0000\n`);
      data(`release ${n}\n`);
    }
    if (n % 70 === 0) parts.push(`reset refs/tags/light${n}\nfrom :${tip}\n\n`);
  }
  return encoder.encode(parts.join(""));
}

function build(path: string, shape: HistoryShape): void {
  git(["init", "-q", "--bare", "-b", "main", path]);
  git(["fast-import", "--quiet"], { cwd: path, input: stream(shape) });
  const firstTag = gitText(["for-each-ref", "--count=1", "--format=%(refname:short)", "refs/tags/v*"], { cwd: path });
  if (firstTag) {
    git(["tag", "-a", "-m", "a tag of a tag", "nested", firstTag], { cwd: path });
    const blob = gitText(["rev-parse", "main:link"], { cwd: path });
    git(["tag", "-a", "-m", "a tag of a blob", "blobtag", blob], { cwd: path });
  }
  git(["repack", "-adq"], { cwd: path });
}

/** The bare repository of `shape` (built on first use). */
export function history(shape: HistoryShape): string {
  const name = `stategit-walk-v${HISTORY_VERSION}-${shape.commits}-${shape.files}-${shape.edits}-${shape.topicEvery}-${shape.skewEvery ?? 0}.git`;
  const gitDir = join(tmpdir(), name);
  if (!existsSync(join(gitDir, "objects", "pack"))) {
    const building = `${gitDir}.${process.pid}.tmp`;
    rmSync(building, { recursive: true, force: true });
    mkdirSync(building, { recursive: true });
    build(building, shape);
    renameSync(building, gitDir);
  }
  return gitDir;
}
