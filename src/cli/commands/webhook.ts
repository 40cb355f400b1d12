import { randomBytes } from "node:crypto";
import { DatabaseError } from "../../db/adapter.ts";
import { WebhookStore, type Webhook } from "../../db/webhooks.ts";
import { checkName } from "../../names.ts";
import { usage, UsageError, type Command, type Options } from "../command.ts";
import { withDatabase } from "../accounts.ts";
import { DATA_OPTIONS } from "../config.ts";

function withWebhooks<T>(options: Options, fn: (webhooks: WebhookStore) => Promise<T>): Promise<T> {
  return withDatabase(options, (db) => fn(new WebhookStore(db)));
}

/** Only http(s) URLs without credentials: the URL is shown by `webhook list`, and the secret signs instead. */
function checkUrl(text: string): string {
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) throw new UsageError(`invalid webhook URL ${JSON.stringify(text)}: expected http://… or https://…`);
  if (url.username || url.password) throw new UsageError("the webhook URL must not hold credentials: the receiver checks the signature instead");
  return url.href;
}

const SECRET_BYTES = 32;

export const webhookAdd: Command = {
  name: "webhook add",
  summary: "POST every change event of an organisation to URL, signed; prints the webhook's id",
  args: ["ORG", "URL"],
  options: [...DATA_OPTIONS, { name: "secret", value: "S", description: "the HMAC-SHA256 key of the signature header (default: a new random one, printed once)" }],
  notes:
    "Each event is POSTed as JSON with `X-Stategit-Signature: sha256=HEX` (the HMAC-SHA256 of the body\n" +
    "under the secret) and `X-Stategit-Event-Id`; events committed after this command are delivered.",
  run: async ({ args: [org, text], options, io }) => {
    usage(() => checkName("organisation", org));
    const url = checkUrl(text);
    const given = options.optionalString("secret");
    if (given === "") throw new UsageError("--secret must not be empty");
    const secret = given ?? randomBytes(SECRET_BYTES).toString("hex");
    const id = await withWebhooks(options, (webhooks) => webhooks.add(org, url, secret)).catch((error: unknown) => {
      if (error instanceof DatabaseError && error.code === "org.unknown") throw new Error(`${error.message}; create it first with \`stategit org create ${org}\``);
      throw error;
    });
    io.out(`${id}\n`);
    io.err(`added webhook ${id} for organisation ${org}: ${url}\n`);
    if (given === undefined) io.err(`its secret (shown only once): ${secret}\n`);
  },
};

function describe(webhook: Webhook): string {
  const status = webhook.lastAttemptAt === undefined ? "no delivery yet" : `last ${webhook.lastStatus ?? "no answer"} at ${webhook.lastAttemptAt.toISOString()}`;
  const failing = webhook.failingSince === undefined ? "" : `\tfailing since ${webhook.failingSince.toISOString()}: ${webhook.lastError ?? "?"}`;
  return `${webhook.id}\t${webhook.org}\t${webhook.url}\t${status}${failing}\n`;
}

export const webhookList: Command = {
  name: "webhook list",
  summary: "list webhooks (of one organisation, or all), one a line: id, organisation, URL, last delivery, failure",
  args: ["[ORG]"],
  options: DATA_OPTIONS,
  run: async ({ args: [org], options, io }) => {
    if (org !== undefined) usage(() => checkName("organisation", org));
    const webhooks = await withWebhooks(options, (store) => store.list(org));
    io.out(webhooks.map(describe).join(""));
  },
};

export const webhookRemove: Command = {
  name: "webhook remove",
  summary: "remove a webhook; its undelivered events are dropped",
  args: ["ID"],
  options: DATA_OPTIONS,
  run: async ({ args: [id], options, io }) => {
    if (!/^wh_[0-9a-f]{16}$/.test(id)) throw new UsageError(`invalid webhook id ${JSON.stringify(id)}: expected wh_ and 16 hex digits, as webhook add printed`);
    if (!(await withWebhooks(options, (webhooks) => webhooks.remove(id)))) throw new Error(`no webhook has the id ${id}`);
    io.err(`removed webhook ${id}\n`);
  },
};
