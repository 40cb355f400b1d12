import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ObjectType } from "../../../src/git/object/object.ts";
import { git, gitText, tempDir } from "../../support/git.ts";
import { seededRandom } from "../../support/random.ts";

export interface StoredObject {
  oid: string;
  type: ObjectType;
  data: Uint8Array;
}

export interface FixtureRepo {
  path: string;
  objects: StoredObject[];
  cleanup: () => void;
}

const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
export const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

/** A "signature" block shaped like gpg's, as continuation lines of a header. */
const FAKE_SIGNATURE = ["-----BEGIN PGP SIGNATURE-----", "", "iQIzBAABCAAdFiEEfakefakefakefakefakefakefake", "=wxyz", "-----END PGP SIGNATURE-----"];

/**
 * A repository made by real git with every shape of object stategit must read: renames,
 * merges (two and three parents), binary files, symlinks, executables, a gitlink, empty trees,
 * non-UTF-8 names and messages, an `encoding` header, gpgsig and mergetag headers, unknown
 * headers, annotated tags of every object type, and objects without a message.
 */
export function buildFixtureRepo(): FixtureRepo {
  const dir = tempDir("stategit-objects-");
  const cwd = dir.path;
  const run = (args: string[], input?: Uint8Array | string, env?: Record<string, string>) => gitText(args, { cwd, input, env });
  const write = (path: string, content: string | Uint8Array) => {
    mkdirSync(join(cwd, path, ".."), { recursive: true });
    writeFileSync(join(cwd, path), content);
  };
  const commitAll = (message: string, env?: Record<string, string>) => {
    run(["add", "-A"]);
    run(["commit", "-q", "-m", message], undefined, env);
    return run(["rev-parse", "HEAD"]);
  };
  const random = seededRandom(42);

  run(["init", "-q", "-b", "main"]);
  write("README.md", "# memory\n");
  write("system/human.md", "---\ndescription: the human\n---\nlikes tea\n");
  write("skills/search/SKILL.md", "search the web\n");
  write("data.bin", Uint8Array.from({ length: 3000 }, () => Math.floor(random() * 256)));
  write("bin/run.sh", "#!/bin/sh\necho hi\n");
  chmodSync(join(cwd, "bin/run.sh"), 0o755);
  symlinkSync("README.md", join(cwd, "link"));
  // Names that exercise tree order: "a" is a directory, so it sorts after "a.c" and "a-b".
  write("a/x", "x\n");
  write("a.c", "c\n");
  write("a-b", "ab\n");
  write("a0", "a0\n");
  const initial = commitAll("initial\n\nwith a body\n");

  run(["mv", "README.md", "MEMORY.md"]);
  write("system/human.md", "likes coffee now\n");
  commitAll("rename and edit", { GIT_COMMITTER_DATE: "1700000100 -0130", GIT_AUTHOR_DATE: "1700000050 +0545" });

  run(["checkout", "-q", "-b", "feature", initial]);
  write("feature.md", "feature\n");
  commitAll("feature");
  run(["checkout", "-q", "-b", "other", initial]);
  write("other.md", "other\n");
  commitAll("other");
  run(["checkout", "-q", "-b", "third", initial]);
  write("third.md", "third\n");
  commitAll("third");
  run(["checkout", "-q", "main"]);
  run(["merge", "-q", "--no-ff", "-m", "merge feature", "feature"]);
  run(["merge", "-q", "--no-ff", "-m", "octopus", "other", "third"]);

  // A gitlink, a non-UTF-8 file name and a tree holding an empty tree, written through the index.
  run(["hash-object", "-w", "-t", "tree", "--stdin"], "");
  const blob = run(["hash-object", "-w", "--stdin"], "latin-1 named\n");
  run(["update-index", "--index-info"], new Uint8Array([
    ...new TextEncoder().encode(`160000 commit ${initial}\tvendor/sub\n100644 blob ${blob}\t`),
    ...latin1("caf\xe9.md\n"),
    ...new TextEncoder().encode(`040000 tree ${EMPTY_TREE}\tempty\n`),
  ]));
  run(["commit", "-q", "-m", "gitlink, latin-1 name, empty directory"]);

  // An `encoding` header, as `git -c i18n.commitEncoding` writes it, with a Latin-1 message.
  write("enc.md", "enc\n");
  run(["add", "-A"]);
  write(".git/MESSAGE", latin1("caf\xe9 cr\xe8me\n"));
  run(["-c", "i18n.commitEncoding=ISO-8859-1", "commit", "-q", "-F", ".git/MESSAGE"]);

  // A message that is not text at all, and the empty tree as a root commit.
  const head = run(["rev-parse", "HEAD"]);
  const headTree = run(["rev-parse", "HEAD^{tree}"]);
  const binaryMessage = run(["commit-tree", headTree, "-p", head], Uint8Array.of(0xff, 0xfe, 0x80, 0x0a));
  const emptyRoot = run(["commit-tree", EMPTY_TREE], "");
  run(["update-ref", "refs/heads/binary-message", binaryMessage]);
  run(["update-ref", "refs/heads/empty-root", emptyRoot]);

  run(["tag", "-a", "-m", "release one", "v1", head]);
  run(["tag", "lightweight", head]);
  run(["tag", "-a", "-m", "a tree", "tree-tag", headTree]);
  run(["tag", "-a", "-m", "a blob", "blob-tag", blob]);
  run(["tag", "-a", "-m", "a tag of a tag", "tag-tag", "v1"]);
  const signedTag = run(["mktag"], `object ${head}\ntype commit\ntag signed\ntagger Tagger <t@example.com> 1700000000 +0200\n\nsigned release\n${FAKE_SIGNATURE.join("\n")}\n`);
  run(["update-ref", "refs/tags/signed", signedTag]);
  const bodylessTag = run(["mktag"], `object ${head}\ntype commit\ntag bodyless\ntagger Tagger <t@example.com> 1700000000 +0000\n`);
  run(["update-ref", "refs/tags/bodyless", bodylessTag]);
  // Tags before git 0.99.1 had no tagger; git still reads them.
  const oldTag = run(["hash-object", "-t", "tag", "-w", "--stdin", "--literally"], `object ${head}\ntype commit\ntag old\n\nno tagger\n`);
  run(["update-ref", "refs/tags/old", oldTag]);

  // A signed merge of a signed tag, as `git merge -S` of a signed tag writes it, with the
  // encoding between committer and the signatures and an unknown header in the middle.
  const mergetag = [`object ${binaryMessage}`, "type commit", "tag signed-merge", "tagger Tagger <t@example.com> 1700000000 +0000", "", "merge me", ...FAKE_SIGNATURE];
  const signedCommit = new Uint8Array([
    ...new TextEncoder().encode(`tree ${headTree}\nparent ${head}\nparent ${binaryMessage}\n`),
    ...latin1("author Ren\xe9 Fran\xe7ois <rene@example.com> 1700000000 +0100\n"),
    ...new TextEncoder().encode([
      "committer  <no-name@example.com> 1700000001 -0000",
      "encoding ISO-8859-1",
      `mergetag ${mergetag.join("\n ")}`,
      "x-unknown-header some value",
      `gpgsig ${FAKE_SIGNATURE.join("\n ")}`,
      "",
    ].join("\n")),
    ...latin1("\nMerge tag 'signed-merge'\n\nCaf\xe9.\n"),
  ]);
  run(["update-ref", "refs/heads/signed", run(["hash-object", "-t", "commit", "-w", "--stdin", "--literally"], signedCommit)]);
  // A commit with no empty line and no message.
  const bodyless = `tree ${EMPTY_TREE}\nauthor A <a@example.com> 0 +0000\ncommitter C <c@example.com> 1 +0000\n`;
  run(["update-ref", "refs/heads/bodyless", run(["hash-object", "-t", "commit", "-w", "--stdin", "--literally"], bodyless)]);

  return { path: cwd, objects: readAllObjects(cwd), cleanup: dir.cleanup };
}

/** Every object of the repository, through `git cat-file --batch`. */
export function readAllObjects(cwd: string): StoredObject[] {
  const out = git(["cat-file", "--batch-all-objects", "--batch"], { cwd }).stdout;
  const objects: StoredObject[] = [];
  let offset = 0;
  while (offset < out.length) {
    const headerEnd = out.indexOf(0x0a, offset);
    const [oid, type, size] = new TextDecoder().decode(out.subarray(offset, headerEnd)).split(" ");
    const start = headerEnd + 1;
    objects.push({ oid, type: type as ObjectType, data: out.slice(start, start + Number(size)) });
    offset = start + Number(size) + 1;
  }
  return objects;
}
