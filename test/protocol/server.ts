import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { nativeCodec } from "../../src/git/codec/index.ts";
import { decodePackIndex } from "../../src/git/idxfile/index.ts";
import { ObjectDatabase } from "../../src/git/odb/index.ts";
import { PackFile } from "../../src/git/pack/packfile.ts";
import { advertise, advertisementContentType, isGitService, resultContentType } from "../../src/protocol/advertise.ts";
import type { RepositorySnapshot } from "../../src/protocol/snapshot.ts";
import { uploadPack } from "../../src/protocol/upload-pack.ts";
import { parseProtocolVersion } from "../../src/protocol/version.ts";
import { git } from "../support/git.ts";
import { readRefs } from "./repository.ts";

/** A snapshot over a git repository's objects, repacked into one pack and read with ObjectDatabase. */
export function packedSnapshot(dir: string): RepositorySnapshot {
  git(["-C", dir, "repack", "-a", "-d", "-q"]);
  const packDir = join(dir, ".git", "objects", "pack");
  const database = new ObjectDatabase(nativeCodec);
  for (const name of readdirSync(packDir).filter((file) => file.endsWith(".pack"))) {
    const index = decodePackIndex(new Uint8Array(readFileSync(join(packDir, name.replace(/\.pack$/, ".idx")))), nativeCodec);
    database.addPack(new PackFile(new Uint8Array(readFileSync(join(packDir, name))), index, nativeCodec, database.cache));
  }
  return { ...readRefs(dir), objects: database };
}

/**
 * The three smart-HTTP routes over one snapshot, and nothing else (no auth, one repository at
 * `/repo.git`): enough for the real git client to clone and fetch.
 */
export function serveSnapshot(getSnapshot: () => RepositorySnapshot): { url: string; stop: () => void } {
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const url = new URL(request.url);
      const protocolVersion = parseProtocolVersion(request.headers.get("git-protocol"));
      if (request.method === "GET" && url.pathname === "/repo.git/info/refs") {
        const service = url.searchParams.get("service") ?? "";
        if (!isGitService(service)) return new Response("forbidden", { status: 403 });
        return new Response(advertise(getSnapshot(), service, protocolVersion), {
          headers: { "content-type": advertisementContentType(service), "cache-control": "no-cache" },
        });
      }
      if (request.method === "POST" && url.pathname === "/repo.git/git-upload-pack") {
        let body = new Uint8Array(await request.arrayBuffer());
        if (request.headers.get("content-encoding") === "gzip") body = Bun.gunzipSync(body);
        return new Response(uploadPack(getSnapshot(), body, { protocolVersion }), {
          headers: { "content-type": resultContentType("git-upload-pack"), "cache-control": "no-cache" },
        });
      }
      return new Response("not found", { status: 404 });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/repo.git`, stop: () => server.stop(true) };
}
