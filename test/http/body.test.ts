import { expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { BadBodyError, BodyTooLargeError, readBody } from "../../src/http/body.ts";
import { inSharedMemory } from "../../src/repo/packs.ts";

const post = (body: Uint8Array | string | ReadableStream<Uint8Array>, headers: Record<string, string> = {}) => new Request("http://x/", { method: "POST", body, headers });

test("plain, gzip and streamed bodies are read whole", async () => {
  const data = new TextEncoder().encode("0032want ".repeat(500));
  expect(await readBody(post(data), 1 << 20)).toEqual(data);
  expect(await readBody(post(gzipSync(data), { "content-encoding": "gzip" }), 1 << 20)).toEqual(data);
  const streamed = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < data.length; i += 100) controller.enqueue(data.subarray(i, i + 100));
      controller.close();
    },
  });
  expect(await readBody(post(streamed), 1 << 20)).toEqual(data);
});

test("a body over the limit is refused, also when it only inflates past it", async () => {
  const big = new Uint8Array(2 << 20);
  await expect(readBody(post(big), 1 << 20)).rejects.toBeInstanceOf(BodyTooLargeError);
  await expect(readBody(post(gzipSync(big), { "content-encoding": "gzip" }), 1 << 20)).rejects.toBeInstanceOf(BodyTooLargeError);
});

test("corrupt gzip and unknown encodings are bad requests", async () => {
  await expect(readBody(post(new Uint8Array([1, 2, 3, 4]), { "content-encoding": "gzip" }), 1000)).rejects.toBeInstanceOf(BadBodyError);
  await expect(readBody(post("x", { "content-encoding": "br" }), 1000)).rejects.toBeInstanceOf(BadBodyError);
});

test("a large body arrives in shared memory, where a pushed pack is kept as it is (held once, not copied)", async () => {
  const data = new Uint8Array(3 << 20).map((_, i) => i * 7);
  const streamed = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < data.length; i += 65536) controller.enqueue(data.subarray(i, i + 65536));
      controller.close();
    },
  });
  for (const request of [post(data), post(streamed)]) {
    const body = await readBody(request, 8 << 20);
    expect(body.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(body.buffer.byteLength).toBe(data.length);
    expect(inSharedMemory(body)).toBe(body);
    expect(Buffer.from(body).equals(Buffer.from(data))).toBe(true);
  }
});

test("a streamed body over the limit is refused before it is held", async () => {
  const streamed = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(new Uint8Array(65536));
    },
  });
  await expect(readBody(post(streamed), 1 << 20)).rejects.toBeInstanceOf(BodyTooLargeError);
});
