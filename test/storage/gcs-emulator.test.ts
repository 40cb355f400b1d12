import { CRC32C, Storage } from "@google-cloud/storage";
import { afterEach, describe, expect, test } from "bun:test";
import { spawnGcsEmulator, startGcsEmulator, withGcsEmulator } from "../support/gcs-emulator.ts";
import { crc32cOf } from "../support/gcs-emulator-buckets.ts";
import { seededRandom } from "../support/random.ts";

const BUCKET = "emulated";
const emulator = withGcsEmulator([BUCKET]);
afterEach(() => emulator().reset());

const client = () => new Storage({ apiEndpoint: emulator().url, retryOptions: { autoRetry: false } });
const bucket = () => client().bucket(BUCKET);
const bytes = (text: string) => Buffer.from(text);
/** The raw JSON API, for what the client cannot express or hides. */
const api = (path: string, init?: RequestInit) => fetch(`${emulator().url}${path}`, init);
const objectPath = (name: string) => `/storage/v1/b/${BUCKET}/o/${encodeURIComponent(name)}`;
const errorOf = async (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as { code?: number; errors?: { reason?: string }[]; message: string },
  );

describe("uploads", () => {
  test("media, multipart and resumable uploads (one PUT or in chunks) keep the exact bytes", async () => {
    const data = Buffer.from(Array.from({ length: 700_000 }, (_, i) => (i * 7919) % 251));
    await bucket().file("multipart").save(data, { resumable: false });
    await bucket().file("resumable").save(data, { resumable: true });
    await bucket().file("chunked").save(data, { resumable: true, chunkSize: 256 * 1024 });
    const media = await api(`/upload/storage/v1/b/${BUCKET}/o?uploadType=media&name=media`, { method: "POST", body: data });
    expect(media.status).toBe(200);
    for (const name of ["media", "multipart", "resumable", "chunked"]) {
      const [downloaded] = await bucket().file(name).download();
      expect(Buffer.compare(downloaded, data)).toBe(0);
    }
    expect(emulator().objects(BUCKET).map((object) => object.name)).toEqual(["chunked", "media", "multipart", "resumable"]);
  });

  test("the object resource carries generation, metageneration, size and the hashes the client checks", async () => {
    const file = bucket().file("dir/object");
    await file.save(bytes("hello"), { resumable: false, metadata: { contentType: "text/plain", metadata: { a: "1" } } });
    const [metadata] = await file.getMetadata();
    expect(metadata).toMatchObject({
      name: "dir/object",
      bucket: BUCKET,
      size: "5",
      metageneration: "1",
      contentType: "text/plain",
      md5Hash: "XUFAKrxLKna5cZ2REBfFkg==",
      crc32c: "mnG7TA==",
      metadata: { a: "1" },
    });
    expect(metadata.generation).toMatch(/^\d{16}$/);
    expect(metadata.generation).toBe(file.metadata.generation);
  });

  test("the emulator's CRC32C agrees with the client's", () => {
    const random = seededRandom(6);
    for (let length = 0; length < 100; length++) {
      const data = Buffer.from(Array.from({ length: length * 37 }, () => Math.floor(random() * 256)));
      const expected = new CRC32C();
      expected.update(data);
      expect(crc32cOf(data)).toBe(expected.toString());
    }
  });

  test("every write is a new, higher generation; a metadata update keeps it and bumps the metageneration", async () => {
    const file = bucket().file("versions");
    await file.save(bytes("1"), { resumable: false });
    const first = BigInt(file.metadata.generation!);
    await file.save(bytes("2"), { resumable: false });
    const second = BigInt(file.metadata.generation!);
    expect(second).toBeGreaterThan(first);
    const [patched] = await file.setMetadata({ metadata: { k: "v" } });
    expect([patched.generation, patched.metageneration]).toEqual([String(second), "2"]);
    const error = await errorOf(file.setMetadata({ metadata: { k: "w" } }, { ifMetagenerationMatch: 1 }));
    expect(error?.code).toBe(412);
  });

  test("a resumable session answers status queries, takes chunks, and checks preconditions when it completes", async () => {
    const start = await api(`/upload/storage/v1/b/${BUCKET}/o?uploadType=resumable&ifGenerationMatch=0`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "session" }),
    });
    const session = start.headers.get("location")!;
    expect(session).toContain("upload_id=");
    const put = (range: string, body?: string) => fetch(session, { method: "PUT", headers: { "content-range": range }, body });
    const empty = await put("bytes */*");
    expect([empty.status, empty.headers.get("range")]).toEqual([308, null]);
    const first = await put("bytes 0-2/*", "abc");
    expect([first.status, first.headers.get("range")]).toEqual([308, "bytes=0-2"]);
    expect((await put("bytes */*")).headers.get("range")).toBe("bytes=0-2");
    const overlapping = await put("bytes 1-4/*", "bcde");
    expect(overlapping.headers.get("range")).toBe("bytes=0-4");
    await bucket().file("session").save(bytes("created meanwhile"), { resumable: false });
    const last = await put("bytes 5-5/6", "f");
    expect(last.status).toBe(412);
    const [contents] = await bucket().file("session").download();
    expect(contents.toString()).toBe("created meanwhile");
  });
});

describe("preconditions and errors", () => {
  test("ifGenerationMatch: 0 creates only; a second create gets GCS's 412 conditionNotMet body", async () => {
    const file = bucket().file("once");
    await file.save(bytes("first"), { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
    const error = await errorOf(file.save(bytes("second"), { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }));
    expect(error?.code).toBe(412);
    expect(error?.errors?.[0]?.reason).toBe("conditionNotMet");
    const resumable = await errorOf(file.save(bytes("third"), { resumable: true, preconditionOpts: { ifGenerationMatch: 0 } }));
    expect(resumable?.code).toBe(412);
    const raw = await api(`/upload/storage/v1/b/${BUCKET}/o?uploadType=media&name=once&ifGenerationMatch=0`, { method: "POST", body: "x" });
    expect(raw.status).toBe(412);
    expect(await raw.json()).toEqual({
      error: {
        code: 412,
        message: "At least one of the pre-conditions you specified did not hold.",
        errors: [{ domain: "global", reason: "conditionNotMet", message: "At least one of the pre-conditions you specified did not hold." }],
      },
    });
    expect((await file.download())[0].toString()).toBe("first");
  });

  test("generation conditions on writes, deletes and reads", async () => {
    const file = bucket().file("conditional");
    await file.save(bytes("v1"), { resumable: false });
    const generation = Number(file.metadata.generation);
    const write = (query: string) => api(`/upload/storage/v1/b/${BUCKET}/o?uploadType=media&name=conditional&${query}`, { method: "POST", body: "v2" });
    expect((await write(`ifGenerationMatch=${generation + 1}`)).status).toBe(412);
    expect((await write(`ifGenerationNotMatch=${generation}`)).status).toBe(412);
    expect((await write(`ifMetagenerationMatch=2`)).status).toBe(412);
    const replaced = await write(`ifGenerationMatch=${generation}&ifMetagenerationMatch=1`);
    expect(replaced.status).toBe(200);
    const current = Number(((await replaced.json()) as { generation: string }).generation);
    expect((await api(`${objectPath("conditional")}?ifGenerationNotMatch=${current}`)).status).toBe(304);
    expect((await api(`${objectPath("conditional")}?ifGenerationMatch=${generation}`)).status).toBe(412);
    expect((await api(`${objectPath("conditional")}?generation=${generation}`)).status).toBe(404);
    expect((await api(`${objectPath("conditional")}?ifGenerationMatch=${generation}`, { method: "DELETE" })).status).toBe(412);
    expect((await api(`${objectPath("conditional")}?ifGenerationMatch=${current}`, { method: "DELETE" })).status).toBe(204);
    expect((await write("ifGenerationMatch=0")).status).toBe(200);
  });

  test("a missing object is 404 notFound for reads, downloads and deletes; a missing bucket too", async () => {
    const missing = bucket().file("missing");
    for (const call of [missing.getMetadata(), missing.download(), missing.delete()]) {
      expect((await errorOf(call))?.code).toBe(404);
    }
    const raw = await api(objectPath("missing"));
    expect(await raw.json()).toEqual({
      error: { code: 404, message: `No such object: ${BUCKET}/missing`, errors: [{ domain: "global", reason: "notFound", message: `No such object: ${BUCKET}/missing` }] },
    });
    const noBucket = await errorOf(client().bucket("no-such-bucket").file("x").save(bytes("x"), { resumable: false }));
    expect(noBucket?.code).toBe(404);
  });

  test("hashes sent with an upload must match its bytes", async () => {
    const upload = (hash: string) =>
      api(`/upload/storage/v1/b/${BUCKET}/o?uploadType=media&name=hashed`, { method: "POST", body: "hello", headers: { "x-goog-hash": hash } });
    expect((await upload("crc32c=AAAAAA==")).status).toBe(400);
    expect((await upload("crc32c=mnG7TA==,md5=XUFAKrxLKna5cZ2REBfFkg==")).status).toBe(200);
  });
});

describe("reads and listings", () => {
  test("media downloads: alt=media, /download/storage/v1 and byte ranges", async () => {
    await bucket().file("a/b").save(bytes("0123456789"), { resumable: false });
    const viaQuery = await api(`${objectPath("a/b")}?alt=media`);
    expect(viaQuery.headers.get("x-goog-generation")).toBe(emulator().objects(BUCKET)[0].generation.toString());
    expect(await viaQuery.text()).toBe("0123456789");
    expect(await (await api(`/download${objectPath("a/b")}?alt=media`)).text()).toBe("0123456789");
    const [part] = await bucket().file("a/b").download({ start: 2, end: 4 });
    expect(part.toString()).toBe("234");
  });

  test("list: prefix, delimiter, offsets, pages of maxResults with page tokens", async () => {
    for (const name of ["a/1", "a/2", "a/sub/3", "a/sub/4", "ab", "b"]) await bucket().file(name).save(bytes(name), { resumable: false });
    const [all] = await bucket().getFiles();
    expect(all.map((file) => file.name)).toEqual(["a/1", "a/2", "a/sub/3", "a/sub/4", "ab", "b"]);
    const [underA] = await bucket().getFiles({ prefix: "a/" });
    expect(underA.map((file) => file.name)).toEqual(["a/1", "a/2", "a/sub/3", "a/sub/4"]);
    const [, , shallow] = await bucket().getFiles({ prefix: "a/", delimiter: "/", autoPaginate: false });
    expect(shallow).toMatchObject({ items: [{ name: "a/1" }, { name: "a/2" }], prefixes: ["a/sub/"] });
    const [between] = await bucket().getFiles({ startOffset: "a/2", endOffset: "ab" });
    expect(between.map((file) => file.name)).toEqual(["a/2", "a/sub/3", "a/sub/4"]);

    const pages: string[][] = [];
    let query: { pageToken?: string } | null = {};
    while (query) {
      const [files, next]: [{ name: string }[], { pageToken?: string } | null, unknown] = await bucket().getFiles({ ...query, maxResults: 4, autoPaginate: false });
      pages.push(files.map((file) => file.name));
      query = next;
    }
    expect(pages).toEqual([["a/1", "a/2", "a/sub/3", "a/sub/4"], ["ab", "b"]]);
    const [, nextAfterPrefix] = await bucket().getFiles({ delimiter: "/", maxResults: 1, autoPaginate: false });
    const [rest, , restResponse] = await bucket().getFiles({ ...nextAfterPrefix, delimiter: "/", maxResults: 10, autoPaginate: false });
    expect([rest.map((file) => file.name), (restResponse as { prefixes?: string[] }).prefixes]).toEqual([["ab", "b"], undefined]);
  });

  test("deleted objects disappear from reads and listings", async () => {
    await bucket().file("gone").save(bytes("x"), { resumable: false });
    await bucket().file("gone").delete();
    expect((await bucket().file("gone").exists())[0]).toBe(false);
    expect((await bucket().getFiles())[0]).toEqual([]);
  });
});

describe("faults", () => {
  test("failNext and failureRate answer the chosen status with GCS's error body", async () => {
    emulator().setFaults({ failNext: 2 });
    const first = await api(objectPath("x"));
    expect([first.status, ((await first.json()) as { error: { errors: { reason: string }[] } }).error.errors[0].reason]).toEqual([503, "backendError"]);
    expect((await api(objectPath("x"))).status).toBe(503);
    expect((await api(objectPath("x"))).status).toBe(404);
    emulator().setFaults({ failureRate: 1, failureStatus: 429 });
    const limited = await errorOf(bucket().file("x").save(bytes("x"), { resumable: false }));
    expect([limited?.code, limited?.errors?.[0]?.reason]).toEqual([429, "rateLimitExceeded"]);
    expect(emulator().stats).toMatchObject({ failed: 3, rateLimited: 1 });
  });

  test("added latency delays every call", async () => {
    emulator().setFaults({ latencyMs: 50 });
    const start = performance.now();
    await api(objectPath("x"));
    expect(performance.now() - start).toBeGreaterThanOrEqual(45);
  });

  test("a hung call is never answered: the caller's timeout ends it, and stopping the emulator ends the rest", async () => {
    const own = await startGcsEmulator({ buckets: ["b"] });
    own.setFaults({ hangRate: 1 });
    const timedOut = await errorOf(fetch(`${own.url}/storage/v1/b/b/o/x`, { signal: AbortSignal.timeout(100) }));
    expect((timedOut as Error | undefined)?.name).toBe("TimeoutError");
    const pending = fetch(`${own.url}/storage/v1/b/b/o/x`).then((response) => response.status, () => "connection closed");
    while (own.stats.hung < 2) await Bun.sleep(5);
    await own.stop();
    expect(await pending).toBeDefined();
  });

  test("a cut call ends the connection before the body", async () => {
    emulator().setFaults({ cutRate: 1 });
    expect(await errorOf(bucket().file("x").save(bytes("x"), { resumable: false }))).toBeDefined();
    expect(await errorOf(api(objectPath("x")).then((response) => response.text()))).toBeDefined();
    // Bun's HTTP client may try once more when a reused keep-alive connection is cut.
    expect(emulator().stats.cut).toBeGreaterThanOrEqual(2);
  });

  test("a lost answer: the call is carried out but never answered; onlyMatching narrows faults to some calls", async () => {
    emulator().setFaults({ onlyMatching: "uploadType=media", loseAnswerNext: 1 });
    expect((await api(objectPath("x"))).status).toBe(404);
    const upload = api(`/upload/storage/v1/b/${BUCKET}/o?uploadType=media&name=x`, { method: "POST", body: "x", signal: AbortSignal.timeout(100) });
    expect(((await errorOf(upload)) as Error | undefined)?.name).toBe("TimeoutError");
    expect(emulator().objects(BUCKET).map((object) => object.name)).toEqual(["x"]);
    expect(emulator().stats.lostAnswers).toBe(1);
  });

  test("the one-write-per-second rule: a second write of one name within the interval is 429; reads and other names are not limited", async () => {
    emulator().setFaults({ objectWriteIntervalMs: 60_000 });
    await bucket().file("hot").save(bytes("1"), { resumable: false });
    const error = await errorOf(bucket().file("hot").save(bytes("2"), { resumable: false }));
    expect([error?.code, error?.errors?.[0]?.reason]).toEqual([429, "rateLimitExceeded"]);
    expect((await errorOf(bucket().file("hot").delete()))?.code).toBe(429);
    await bucket().file("other").save(bytes("1"), { resumable: false });
    expect((await bucket().file("hot").download())[0].toString()).toBe("1");
    emulator().setFaults({ objectWriteIntervalMs: 0 });
    await bucket().file("hot").save(bytes("3"), { resumable: false });
  });

  test("the control endpoint changes faults at run time and refuses unknown ones", async () => {
    const post = (body: unknown) => api("/_emulator/faults", { method: "POST", body: JSON.stringify(body) });
    expect((await post({ failNext: 1, latencyMs: 1 })).status).toBe(200);
    expect(emulator().faults).toMatchObject({ failNext: 1, latencyMs: 1 });
    expect((await api(objectPath("x"))).status).toBe(503);
    expect((await post({ nonsense: 1 })).status).toBe(400);
    expect((await post({ failureRate: -1 })).status).toBe(400);
    expect(await (await api("/_emulator/stats")).json()).toMatchObject({ requests: 1, failed: 1 });
    await api("/_emulator/reset", { method: "POST" });
    expect(emulator().faults.latencyMs).toBe(0);
  });
});

test("as a process: prints its address, serves the client, takes faults over HTTP", async () => {
  const child = await spawnGcsEmulator({ buckets: ["proc"] });
  try {
    const storage = new Storage({ apiEndpoint: child.url, retryOptions: { autoRetry: false } });
    await storage.bucket("proc").file("x").save(bytes("from a client"), { resumable: false });
    expect((await storage.bucket("proc").file("x").download())[0].toString()).toBe("from a client");
    expect(await child.setFaults({ failNext: 1 })).toMatchObject({ failNext: 1 });
    expect((await errorOf(storage.bucket("proc").file("x").download()))?.code).toBe(503);
    expect(await child.stats()).toMatchObject({ requests: 3, failed: 1 });
    await child.reset();
    expect((await errorOf(storage.bucket("proc").file("x").download()))?.code).toBe(404);
  } finally {
    await child.stop();
  }
});
