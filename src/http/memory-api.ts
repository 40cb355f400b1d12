/**
 * What the JSON API does (DESIGN.md, Contract, "Blocks" and "Shared memory"), one method per
 * endpoint: blocks are read from the SQL mirror (one statement, so a list and its commit agree),
 * written as commits through Repositories.write (which writes the mirror in the commit's
 * transaction), and files and history are read from the repository's objects. Shared repositories
 * and attachments are rows of SharedRepositories; their content is a repository like an agent's.
 */
import { planBlockWrite, type BlockWrite, type BlockWriteResult } from "../blocks/api-write.ts";
import { checkLabel } from "../blocks/layout.ts";
import type { MemoryFile } from "../blocks/memory-file.ts";
import { memoryPolicyOf, type MemoryRulesConfig } from "../blocks/push-check.ts";
import type { MemoryMirror, SearchHit } from "../db/mirror.ts";
import { PRIMARY_REPOSITORY_NAME, type SharedRepositories, type SharedRepository } from "../db/shared-repositories.ts";
import { defaultCodec, type Codec } from "../git/codec/index.ts";
import type { Oid } from "../git/oid.ts";
import { history, readPath, requireRevision, type CommitSummary, type PathContent } from "../repo/browse.ts";
import { sharedRepositoryId, sharedRepositoryName, type RepositoryName } from "../repo/layout.ts";
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

/** A shared repository as Letta's clients read it. */
export interface RepositoryJson {
  id: string;
  name: string;
  created_at: string;
  updated_at: string;
}

/**
 * An entry of an agent's repository list: its own memory (`is_primary`, named "memory", with the
 * agent's id), then the attached repositories. Letta Code pushes only to `read_write` ones.
 */
export interface AgentRepositoryJson {
  id: string;
  name: string;
  is_primary: boolean;
  permissions: "read_write";
  created_at?: string;
  updated_at?: string;
}

/** A search hit, saying where it comes from: an agent's own memory, or a shared repository. */
export type SearchResultJson = Omit<SearchHit, "repo"> & ({ agent: string } | { repository: { id: string; name: string } });

export interface MemoryApiOptions {
  repositories: Repositories;
  shared: SharedRepositories;
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

export function repositoryJson(repository: SharedRepository): RepositoryJson {
  return { id: repository.id, name: repository.name, created_at: repository.createdAt.toISOString(), updated_at: repository.updatedAt.toISOString() };
}

const attachedJson = (repository: SharedRepository): AgentRepositoryJson => ({ ...repositoryJson(repository), is_primary: false, permissions: "read_write" });

const notFound = (label: string) => new ApiError(404, "block.not-found", `block ${JSON.stringify(label)} does not exist`);

/** Methods taking a RepositoryName serve an agent's own memory and a shared repository alike. */
export class MemoryApi {
  private readonly codec: Codec;

  constructor(private readonly options: MemoryApiOptions) {
    this.codec = options.codec ?? defaultCodec;
  }

  async blocks(org: string, repo: RepositoryName): Promise<BlockList> {
    const tip = await this.options.mirror.tip(org, repo);
    const blocks = tip.files.filter((file) => file.kind === "block").map((file) => blockJson(file, file.commit));
    return { commit: tip.commit ?? null, generation: tip.generation, blocks };
  }

  async block(org: string, repo: RepositoryName, label: string): Promise<BlockJson> {
    checkLabel("v1", label);
    const { blocks } = await this.blocks(org, repo);
    const block = blocks.find((candidate) => candidate.label === label);
    if (!block) throw notFound(label);
    return block;
  }

  /** One commit on the default branch; 409 when it kept losing races to other writers. */
  async writeBlock(org: string, repo: RepositoryName, write: BlockWrite): Promise<WriteAnswer> {
    const { result, committed } = await this.options.repositories.write<BlockWriteResult>(org, repo, async (snapshot) =>
      planBlockWrite(snapshot, this.options.memory, memoryPolicyOf(repo), this.codec, write),
    );
    if (result.kind === "unchanged") return { commit: result.commit, block: await this.block(org, repo, write.label), warnings: [] };
    if (!committed) throw new ApiError(409, "write.contended", "the repository changed too often while writing; try again");
    return { commit: result.commit, block: result.block ? blockJson(result.block, result.commit) : null, warnings: result.warnings };
  }

  /** What `path` ("" for the root) is at `ref` (a ref name or commit id; default HEAD). */
  async files(org: string, repo: RepositoryName, ref: string, path: string): Promise<FilesAnswer> {
    const snapshot = await this.options.repositories.snapshot(org, repo);
    const commit = requireRevision(snapshot, ref);
    return { ref, commit, path, content: readPath(snapshot, commit, path) };
  }

  async history(org: string, repo: RepositoryName, ref: string, options: { path?: string; limit: number }): Promise<CommitSummary[]> {
    const snapshot = await this.options.repositories.snapshot(org, repo);
    return history(snapshot, requireRevision(snapshot, ref), options);
  }

  /** Hits of the organisation's memory; scoped to an agent, its own memory and the repositories attached to it. */
  async search(org: string, text: string, options: { agent?: string; limit: number }): Promise<SearchResultJson[]> {
    const { agent, limit } = options;
    const repos = agent === undefined ? undefined : [agent, ...(await this.options.shared.attached(org, agent)).map(({ id }) => sharedRepositoryName(id))];
    const hits = await this.options.mirror.search(org, text, { limit, repos });
    const sharedIds = [...new Set(hits.flatMap(({ repo }) => sharedRepositoryId(repo) ?? []))];
    const names = await this.options.shared.names(org, sharedIds);
    // A hit of a repository deleted since the search read its row is left out.
    return hits.flatMap(({ repo, ...hit }): SearchResultJson[] => {
      const id = sharedRepositoryId(repo);
      if (id === undefined) return [{ agent: repo, ...hit }];
      const name = names.get(id);
      return name === undefined ? [] : [{ repository: { id, name }, ...hit }];
    });
  }

  async createRepository(org: string, name: string): Promise<RepositoryJson> {
    return repositoryJson(await this.options.shared.create(org, name));
  }

  async listRepositories(org: string, page: { limit: number; offset: number }): Promise<{ repositories: RepositoryJson[]; has_next_page: boolean }> {
    const { repositories, hasNextPage } = await this.options.shared.list(org, page);
    return { repositories: repositories.map(repositoryJson), has_next_page: hasNextPage };
  }

  async repository(org: string, id: string): Promise<RepositoryJson> {
    return repositoryJson(await this.options.shared.require(org, id));
  }

  /** The repository name of the organisation's shared repository `id`; 404 when there is none. */
  async sharedRepository(org: string, id: string): Promise<RepositoryName> {
    return sharedRepositoryName((await this.options.shared.require(org, id)).id);
  }

  /** Deletes the repository, refused while attached. */
  async deleteRepository(org: string, id: string): Promise<void> {
    await this.options.shared.delete(org, id, this.options.repositories);
  }

  /** The commits of the repository's default branch, newest first; none for a never-written one. */
  async versions(org: string, id: string, options: { path?: string; limit: number }): Promise<CommitSummary[]> {
    await this.options.shared.require(org, id);
    const snapshot = await this.options.repositories.snapshot(org, sharedRepositoryName(id));
    const tip = snapshot.refs.get(snapshot.head);
    return tip === undefined ? [] : history(snapshot, tip, options);
  }

  /** The agent's own memory first, then the repositories attached to it, by name. */
  async agentRepositories(org: string, agent: string): Promise<AgentRepositoryJson[]> {
    const primary: AgentRepositoryJson = { id: agent, name: PRIMARY_REPOSITORY_NAME, is_primary: true, permissions: "read_write" };
    return [primary, ...(await this.options.shared.attached(org, agent)).map(attachedJson)];
  }

  async attach(org: string, agent: string, id: string): Promise<AgentRepositoryJson> {
    return attachedJson(await this.options.shared.attach(org, agent, id));
  }

  async detach(org: string, agent: string, id: string): Promise<void> {
    await this.options.shared.detach(org, agent, id);
  }
}
