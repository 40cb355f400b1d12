/**
 * What the JSON API does (DESIGN.md, Contract, "Blocks"), one method per endpoint: blocks are read
 * from the SQL mirror (one statement, so a list and its commit agree), written as commits through
 * Repositories.write (which writes the mirror in the commit's transaction), and files and history
 * are read from the repository's objects.
 */
import { planBlockWrite, type BlockWrite, type BlockWriteResult } from "../blocks/api-write.ts";
import { checkLabel } from "../blocks/layout.ts";
import type { MemoryFile } from "../blocks/memory-file.ts";
import type { MemoryRulesConfig } from "../blocks/push-check.ts";
import type { MemoryMirror, SearchHit } from "../db/mirror.ts";
import { defaultCodec, type Codec } from "../git/codec/index.ts";
import type { Oid } from "../git/oid.ts";
import { history, readPath, requireRevision, type CommitSummary, type PathContent } from "../repo/browse.ts";
import type { Repositories } from "../repo/repository.ts";
import { ApiError } from "./errors.ts";

/** A block as the API shows it: `name` in v2, `read_only` and `limit` in v1; `commit` last changed it. */
export interface BlockJson {
  label: string;
  path: string;
  value: string;
  name?: string;
  /** Null when the file has none (seed blocks, or front matter without it). */
  description: string | null;
  read_only?: boolean;
  limit?: number;
  blob: Oid;
  commit: Oid;
}

export interface BlockList {
  /** The default branch's tip; null for a never-written repository. */
  commit: Oid | null;
  generation: number;
  blocks: BlockJson[];
}

export interface WriteAnswer {
  commit: Oid;
  /** The block after the write; null after a delete. */
  block: BlockJson | null;
  /** Problems the rules found under `--block-policy warn`. */
  warnings: { path: string; code: string; message: string }[];
}

export interface FilesAnswer {
  ref: string;
  commit: Oid;
  path: string;
  content: PathContent;
}

export interface MemoryApiOptions {
  repositories: Repositories;
  mirror: MemoryMirror;
  memory: MemoryRulesConfig;
  codec?: Codec;
}

export function blockJson(file: MemoryFile, commit: Oid): BlockJson {
  const block: BlockJson = { label: file.label ?? "", path: file.path, value: file.value, description: file.description ?? null, blob: file.blob, commit };
  if (file.name !== undefined) block.name = file.name;
  if (file.readOnly !== undefined) block.read_only = file.readOnly;
  if (file.limit !== undefined) block.limit = file.limit;
  return block;
}

const notFound = (label: string) => new ApiError(404, "block.not-found", `block ${JSON.stringify(label)} does not exist`);

export class MemoryApi {
  private readonly codec: Codec;

  constructor(private readonly options: MemoryApiOptions) {
    this.codec = options.codec ?? defaultCodec;
  }

  async blocks(org: string, agent: string): Promise<BlockList> {
    const tip = await this.options.mirror.tip(org, agent);
    const blocks = tip.files.filter((file) => file.kind === "block").map((file) => blockJson(file, file.commit));
    return { commit: tip.commit ?? null, generation: tip.generation, blocks };
  }

  async block(org: string, agent: string, label: string): Promise<BlockJson> {
    checkLabel("v1", label);
    const { blocks } = await this.blocks(org, agent);
    const block = blocks.find((candidate) => candidate.label === label);
    if (!block) throw notFound(label);
    return block;
  }

  /** One commit on the default branch; 409 when it kept losing races to other writers. */
  async writeBlock(org: string, agent: string, write: BlockWrite): Promise<WriteAnswer> {
    const { result, committed } = await this.options.repositories.write<BlockWriteResult>(org, agent, async (snapshot) =>
      planBlockWrite(snapshot, this.options.memory, this.codec, write),
    );
    if (result.kind === "unchanged") return { commit: result.commit, block: await this.block(org, agent, write.label), warnings: [] };
    if (!committed) throw new ApiError(409, "write.contended", "the repository changed too often while writing; try again");
    return { commit: result.commit, block: result.block ? blockJson(result.block, result.commit) : null, warnings: result.warnings };
  }

  /** What `path` ("" for the root) is at `ref` (a ref name or commit id; default HEAD). */
  async files(org: string, agent: string, ref: string, path: string): Promise<FilesAnswer> {
    const snapshot = await this.options.repositories.snapshot(org, agent);
    const commit = requireRevision(snapshot, ref);
    return { ref, commit, path, content: readPath(snapshot, commit, path) };
  }

  async history(org: string, agent: string, ref: string, options: { path?: string; limit: number }): Promise<CommitSummary[]> {
    const snapshot = await this.options.repositories.snapshot(org, agent);
    return history(snapshot, requireRevision(snapshot, ref), options);
  }

  search(org: string, text: string, options: { agent?: string; limit: number }): Promise<SearchHit[]> {
    return this.options.mirror.search(org, text, { limit: options.limit, repos: options.agent === undefined ? undefined : [options.agent] });
  }
}
