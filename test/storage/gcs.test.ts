import { afterEach, describe, expect, test } from "bun:test";
import { StorageError } from "../../src/storage/blob-store.ts";
import { GcsBlobStore, type GcsStoreOptions } from "../../src/storage/gcs.ts";
import { parseStoreUrl, STORE_URL_FORMS } from "../../src/storage/open.ts";
import { withGcsEmulator } from "../support/gcs-emulator.ts";
import { describeBlobStoreContract } from "./contract.ts";

const BUCKET = "stategit-test";
const emulator = withGcsEmulator([BUCKET]);
afterEach(() => emulator().reset());

/** Short backoffs; the default timeouts, so a busy machine does not fail the happy paths. */
const QUICK_RETRIES: GcsStoreOptions = { initialBackoffMs: 5, maxBackoffMs: 50 };
/** For calls meant to fail: short timeouts, so failure paths finish quickly. */
const SHORT = { attemptTimeoutMs: 300, deadlineMs: 1_500 };
let stores = 0;
const storeAt = (prefix = `store-${++stores}`, options: GcsStoreOptions = {}) =>
  new GcsBlobStore({ bucket: BUCKET, prefix }, { apiEndpoint: emulator().url, ...QUICK_RETRIES, ...options });
describeBlobStoreContract("gcs (emulator)", () => storeAt());

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array | undefined) => (data === undefined ? undefined : new TextDecoder().decode(data));
const failureOf = (call: () => Promise<unknown>) =>
  call().then(
    () => undefined,
    (error: unknown) => error as StorageError,
  );

const everyCall = (store: GcsBlobStore) => [
  () => store.get("k"),
  () => store.createOnly("k", bytes("x")),
  () => store.delete("k"),
  () => store.list(""),
  () => store.ping(),
];

describe("retries", () => {
  test("injected 503s are retried until the call succeeds", async () => {
    const store = storeAt();
    emulator().setFaults({ failNext: 3 });
    expect(await store.createOnly("o/a/packs/pack-1.pack", bytes("pack"))).toBe(true);
    emulator().setFaults({ failNext: 3 });
    expect(text(await store.get("o/a/packs/pack-1.pack"))).toBe("pack");
    emulator().setFaults({ failNext: 3 });
    expect((await store.list("o/")).map((listed) => listed.key)).toEqual(["o/a/packs/pack-1.pack"]);
    expect(emulator().stats.failed).toBe(9);
  });

  test("429s, injected or from GCS's one-write-per-second rule, are retried", async () => {
    const store = storeAt(undefined, { deadlineMs: 5_000 });
    emulator().setFaults({ failNext: 2, failureStatus: 429 });
    expect(await store.createOnly("k", bytes("x"))).toBe(true);
    emulator().setFaults({ objectWriteIntervalMs: 500 });
    await store.createOnly("hot", bytes("1"));
    await store.delete("hot");
    expect(await store.createOnly("hot", bytes("2"))).toBe(true);
    expect(text(await store.get("hot"))).toBe("2");
    expect(emulator().stats.rateLimited).toBeGreaterThanOrEqual(3);
  });

  test("a create whose answer was lost, retried, meets a 412: the blob existed, which is success", async () => {
    const store = storeAt(undefined, { attemptTimeoutMs: 1_000 });
    emulator().setFaults({ loseAnswerNext: 1 });
    expect(await store.createOnly("o/a/packs/pack-2.pack", bytes("same bytes"))).toBe(false);
    expect(emulator().stats).toMatchObject({ lostAnswers: 1, preconditionFailed: 1 });
    expect(text(await store.get("o/a/packs/pack-2.pack"))).toBe("same bytes");
  });

  test("large uploads use one resumable session, which a retry resumes", async () => {
    const store = storeAt(undefined, { resumableThreshold: 1024 });
    const data = new Uint8Array(300_000).map((_, i) => i % 251);
    emulator().setFaults({ onlyMatching: "upload_id=", failNext: 1 });
    expect(await store.createOnly("big", data)).toBe(true);
    expect(emulator().stats).toMatchObject({ failed: 1, resumableSessions: 1 });
    expect(Buffer.compare(Buffer.from((await store.get("big"))!), Buffer.from(data))).toBe(0);
    expect(await store.createOnly("big", data)).toBe(false);
  });

  test("a resumable session that GCS forgot is replaced by a new one", async () => {
    const store = storeAt(undefined, { resumableThreshold: 1024 });
    emulator().setFaults({ onlyMatching: "upload_id=", failNext: 1, failureStatus: 404 });
    expect(await store.createOnly("big", new Uint8Array(2048))).toBe(true);
    expect(emulator().stats).toMatchObject({ failed: 1, resumableSessions: 2 });
  });

  test("a failure that persists ends in storage.unavailable at the deadline, naming the call and the last error", async () => {
    const store = storeAt("persist", { ...SHORT, deadlineMs: 600 });
    emulator().setFaults({ failureRate: 1 });
    for (const call of everyCall(store)) {
      const error = await failureOf(call);
      expect(error).toBeInstanceOf(StorageError);
      expect(error?.code).toBe("storage.unavailable");
      expect(error?.message).toMatch(/^GCS \w+ gs:\/\/stategit-test\/persist\/.*failed after \d+ attempt\(s\).*deadline .*HTTP 503/);
    }
    expect(emulator().stats.failed).toBeGreaterThan(5);
  });

  test("hung and cut calls are abandoned at the attempt timeout and end at the deadline, never hang", async () => {
    const store = storeAt("hung", { ...SHORT, deadlineMs: 700 });
    for (const fault of [{ hangRate: 1 }, { cutRate: 1 }]) {
      emulator().setFaults({ hangRate: 0, cutRate: 0, ...fault });
      for (const call of everyCall(store)) {
        const error = await failureOf(call);
        expect(error?.code).toBe("storage.unavailable");
        if ("hangRate" in fault) expect(error?.message).toContain("no answer within 300 ms");
      }
    }
  });

  test("401 and 403 are storage.denied at once, without retries", async () => {
    const store = storeAt();
    for (const status of [401, 403]) {
      emulator().reset();
      emulator().setFaults({ failureRate: 1, failureStatus: status });
      const error = await failureOf(() => store.createOnly("k", bytes("x")));
      expect(error?.code).toBe("storage.denied");
      expect(emulator().stats.failed).toBe(1);
    }
  });

  test("a missing bucket fails ping with a clear error", async () => {
    const store = new GcsBlobStore({ bucket: "no-such-bucket", prefix: "" }, { apiEndpoint: emulator().url, ...QUICK_RETRIES });
    const error = await failureOf(() => store.ping());
    expect(error?.code).toBe("storage.unavailable");
    expect(error?.message).toContain("gs://no-such-bucket not found");
  });
});

describe("layout", () => {
  test("stores with different prefixes share a bucket without seeing each other", async () => {
    const tenant = storeAt("tenant");
    const tenantA = storeAt("tenant-a");
    const nested = storeAt("tenant/nested");
    await tenant.createOnly("k", bytes("tenant"));
    await tenantA.createOnly("k", bytes("tenant-a"));
    expect(await nested.createOnly("k", bytes("nested"))).toBe(true);
    expect(text(await tenant.get("k"))).toBe("tenant");
    expect(text(await tenantA.get("k"))).toBe("tenant-a");
    expect((await tenantA.list("")).map((listed) => listed.key)).toEqual(["k"]);
    // A prefix is a directory of the bucket: "tenant" holds "tenant/nested/k" as its key "nested/k".
    expect((await tenant.list("")).map((listed) => listed.key)).toEqual(["k", "nested/k"]);
    await tenantA.delete("k");
    expect(text(await tenant.get("k"))).toBe("tenant");
    expect(emulator().objects(BUCKET).map((object) => object.name)).toEqual(["tenant/k", "tenant/nested/k"]);
    const whole = new GcsBlobStore({ bucket: BUCKET, prefix: "" }, { apiEndpoint: emulator().url, ...QUICK_RETRIES });
    expect((await whole.list("tenant/n")).map((listed) => [listed.key, listed.size])).toEqual([["tenant/nested/k", 6]]);
  });

  test("objects whose names are not keys, written by something else, are left out of listings", async () => {
    const store = storeAt("mixed");
    await store.createOnly("good", bytes("x"));
    for (const name of ["mixed//double", "mixed/.hidden", "mixed/a/../b"]) {
      await fetch(`${emulator().url}/upload/storage/v1/b/${BUCKET}/o?uploadType=media&name=${encodeURIComponent(name)}`, { method: "POST", body: "x" });
    }
    expect((await store.list("")).map((listed) => listed.key)).toEqual(["good"]);
  });

  test("list pages through more than one page of results", async () => {
    const store = storeAt();
    const keys = Array.from({ length: 1005 }, (_, i) => `p/${String(i).padStart(4, "0")}`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((key) => store.createOnly(key, bytes(key))));
    expect((await store.list("p/")).map((listed) => listed.key)).toEqual(keys);
  });
});

describe("parseStoreUrl: gs://", () => {
  test("bucket and optional prefix", () => {
    expect(parseStoreUrl("gs://my-bucket")).toEqual({ kind: "gcs", bucket: "my-bucket", prefix: "" });
    expect(parseStoreUrl("gs://my-bucket/")).toEqual({ kind: "gcs", bucket: "my-bucket", prefix: "" });
    expect(parseStoreUrl("gs://my_bucket.example.com/a/b/")).toEqual({ kind: "gcs", bucket: "my_bucket.example.com", prefix: "a/b" });
    expect(STORE_URL_FORMS).toContain("gs://BUCKET");
  });

  test("bad bucket names and prefixes are refused with the reason", () => {
    const refusals: [string, string][] = [
      ["gs://", "must be lowercase"],
      ["gs://My-Bucket", "must be lowercase"],
      ["gs://ab", "3-63 characters"],
      ["gs://-bucket", "starting and ending with a letter or digit"],
      ["gs://bucket-", "starting and ending with a letter or digit"],
      [`gs://${"b".repeat(64)}`, "3-63 characters"],
      ["gs://a..b", "dot-separated parts"],
      ["gs://192.168.1.1", "IP address"],
      ["gs://goog-bucket", "'goog'"],
      ["gs://my-google-bucket", "'google'"],
      ["gs://bucket//x", "bad prefix"],
      ["gs://bucket/a/../b", "bad prefix"],
      ["gs://bucket/.hidden", "bad prefix"],
    ];
    for (const [url, reason] of refusals) {
      let error: unknown;
      try {
        parseStoreUrl(url);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).code).toBe("storage.url");
      expect((error as StorageError).message).toContain(reason);
    }
  });
});

test("in a process with STORAGE_EMULATOR_HOST and no credentials, gs:// stores talk to the emulator and never authenticate", async () => {
  // GOOGLE_APPLICATION_CREDENTIALS names a missing file: any attempt to authenticate would fail the calls.
  const script = `
    import { openStore } from ${JSON.stringify(`${import.meta.dir}/../../src/storage/open.ts`)};
    import { GcsBlobStore } from ${JSON.stringify(`${import.meta.dir}/../../src/storage/gcs.ts`)};
    const store = openStore("gs://${BUCKET}/from-env");
    const resumable = new GcsBlobStore({ bucket: "${BUCKET}", prefix: "from-env" }, { resumableThreshold: 1 });
    await store.ping();
    const created = [await store.createOnly("k", new TextEncoder().encode("via env")), await resumable.createOnly("r", new Uint8Array(3000))];
    const read = [new TextDecoder().decode(await store.get("k")), (await resumable.get("r")).length];
    await store.delete("r");
    console.log(JSON.stringify({ created, read, listed: (await store.list("")).map((blob) => blob.key) }));
  `;
  const child = Bun.spawn(["bun", "-e", script], {
    env: {
      PATH: process.env.PATH,
      HOME: "/nonexistent",
      STORAGE_EMULATOR_HOST: emulator().url,
      GOOGLE_APPLICATION_CREDENTIALS: "/nonexistent/key.json",
      METADATA_SERVER_DETECTION: "none",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [output, errors] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
  expect(errors).toBe("");
  expect(await child.exited).toBe(0);
  expect(JSON.parse(output)).toEqual({ created: [true, true], read: ["via env", 3000], listed: ["k"] });
  expect(emulator().objects(BUCKET).map((object) => [object.name, Buffer.from(object.data).toString()])).toEqual([["from-env/k", "via env"]]);
  expect(emulator().stats.resumableSessions).toBe(1);
});
