import type { Command } from "../command.ts";
import { agentList } from "./agent-list.ts";
import { fsck } from "./fsck.ts";
import { gc } from "./gc.ts";
import { importCommand } from "./import.ts";
import { indexPackCommand } from "./index-pack.ts";
import { keyCreate } from "./key-create.ts";
import { keyRevoke } from "./key-revoke.ts";
import { orgCreate } from "./org-create.ts";
import { reindex } from "./reindex.ts";
import { repoAttach, repoCreate, repoDelete, repoDetach, repoList } from "./repo.ts";
import { serve } from "./serve.ts";
import { verifyPackCommand } from "./verify-pack.ts";
import { webhookAdd, webhookList, webhookRemove } from "./webhook.ts";

/** Every command, in the order help lists them. A new command is one module here and one line below. */
export const COMMANDS: readonly Command[] = [serve, orgCreate, keyCreate, keyRevoke, agentList, repoCreate, repoList, repoAttach, repoDetach, repoDelete, webhookAdd, webhookList, webhookRemove, importCommand, gc, fsck, reindex, indexPackCommand, verifyPackCommand];
