/** `stategit repo create|list|attach|detach|delete`: shared memory repositories (DESIGN.md, Contract, "Shared memory"). */
import { DatabaseError } from "../../db/adapter.ts";
import { checkSharedRepositoryName, type SharedRepositories, type SharedRepository } from "../../db/shared-repositories.ts";
import { checkName } from "../../names.ts";
import { usage, type Command, type Options } from "../command.ts";
import { DATA_OPTIONS } from "../config.ts";
import { withRepositories, type RepositoryData } from "../repositories.ts";

/** Runs `fn` on the data once the organisation is known to exist (so that a typo creates nothing). */
async function inOrganisation<T>(org: string, options: Options, fn: (data: RepositoryData) => Promise<T>): Promise<T> {
  usage(() => checkName("organisation", org));
  return withRepositories(options, async (data) => {
    if (!(await data.accounts.orgExists(org))) throw new DatabaseError("org.unknown", `organisation ${JSON.stringify(org)} does not exist`);
    return fn(data);
  });
}

/** The repository whose id or name is `reference`; an error naming it otherwise. */
async function found(shared: SharedRepositories, org: string, reference: string): Promise<SharedRepository> {
  const repository = await shared.find(org, reference);
  if (!repository) throw new DatabaseError("repository.unknown", `organisation ${org} has no repository ${JSON.stringify(reference)} (by id or name)`);
  return repository;
}

const REFERENCE_NOTE = "REPO is a repository's id or its name.";

export const repoCreate: Command = {
  name: "repo create",
  summary: "create a shared memory repository and print its id, alone, on stdout",
  args: ["ORG", "NAME"],
  options: DATA_OPTIONS,
  notes: "Names are 1-64 characters of A-Z a-z 0-9 . _ -, not `.` or `..`; `memory` is reserved for an\nagent's own memory. Agents reach the repository once it is attached to them.",
  run: async ({ args: [org, name], options, io }) => {
    usage(() => checkSharedRepositoryName(name));
    const repository = await inOrganisation(org, options, ({ shared }) => shared.create(org, name));
    io.out(`${repository.id}\n`);
    io.err(`created repository ${repository.name} in organisation ${org}\n`);
  },
};

export const repoList: Command = {
  name: "repo list",
  summary: "list an organisation's shared repositories by name: id, name and the agents attached, tab-separated",
  args: ["ORG"],
  options: DATA_OPTIONS,
  run: async ({ args: [org], options, io }) => {
    const lines = await inOrganisation(org, options, async ({ shared }) => {
      const attachments = await shared.attachments(org);
      const { repositories } = await shared.list(org, { limit: Number.MAX_SAFE_INTEGER, offset: 0 });
      return repositories.map(({ id, name }) => `${id}\t${name}\t${(attachments.get(id) ?? []).join(",")}\n`);
    });
    io.out(lines.join(""));
  },
};

export const repoAttach: Command = {
  name: "repo attach",
  summary: "attach a shared repository to an agent, which may then clone and push it at /v1/git/AGENT/repositories/NAME.git",
  args: ["ORG", "AGENT", "REPO"],
  options: DATA_OPTIONS,
  notes: `${REFERENCE_NOTE} Attaching an attached repository again changes nothing.`,
  run: async ({ args: [org, agent, reference], options, io }) => {
    usage(() => checkName("agent id", agent));
    const repository = await inOrganisation(org, options, async ({ shared }) => shared.attach(org, agent, (await found(shared, org, reference)).id));
    io.err(`attached repository ${repository.name} to agent ${agent}\n`);
  },
};

export const repoDetach: Command = {
  name: "repo detach",
  summary: "detach a shared repository from an agent; its git URL answers 404 to that agent from then on",
  args: ["ORG", "AGENT", "REPO"],
  options: DATA_OPTIONS,
  notes: REFERENCE_NOTE,
  run: async ({ args: [org, agent, reference], options, io }) => {
    usage(() => checkName("agent id", agent));
    const repository = await inOrganisation(org, options, async ({ shared }) => {
      const repository = await found(shared, org, reference);
      await shared.detach(org, agent, repository.id);
      return repository;
    });
    io.err(`detached repository ${repository.name} from agent ${agent}\n`);
  },
};

export const repoDelete: Command = {
  name: "repo delete",
  summary: "delete a shared repository, its history and its files; refused while it is attached to any agent",
  args: ["ORG", "REPO"],
  options: DATA_OPTIONS,
  notes: REFERENCE_NOTE,
  run: async ({ args: [org, reference], options, io }) => {
    const repository = await inOrganisation(org, options, async ({ shared, repositories }) => {
      const repository = await found(shared, org, reference);
      await shared.delete(org, repository.id, repositories);
      return repository;
    });
    io.err(`deleted repository ${repository.name} (${repository.id})\n`);
  },
};
