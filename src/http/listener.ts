import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";

/** The PEM files of `--tls-cert` and `--tls-key`. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface ListenOptions {
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  fetch: (request: Request) => Response | Promise<Response>;
  maxRequestBodySize: number;
  /** HTTPS with these files instead of HTTP. */
  tls?: TlsFiles;
}

/** A listening HTTP(S) server, as the server's life cycle drives it. */
export interface Listener {
  /** `http://HOST:PORT` or `https://HOST:PORT`. */
  url: string;
  /** Stops accepting connections; resolves once the requests in flight have been answered. */
  drain(): Promise<void>;
  /** Closes every connection now, in flight or not. */
  close(): Promise<void>;
  /** Re-reads the TLS files for new connections (open ones keep theirs); throws when they are unusable. */
  reloadTls(): void;
}

// Large clones stream for a while; idle sockets of keep-alive clients are closed after this (Bun's maximum).
const IDLE_TIMEOUT_SECONDS = 255;

export async function listen(options: ListenOptions): Promise<Listener> {
  return options.tls ? listenTls(options, options.tls) : listenPlain(options);
}

function listenPlain(options: ListenOptions): Listener {
  const server = Bun.serve({
    hostname: options.hostname,
    port: options.port,
    fetch: options.fetch,
    maxRequestBodySize: options.maxRequestBodySize,
    idleTimeout: IDLE_TIMEOUT_SECONDS,
  });
  return {
    url: server.url.href.replace(/\/$/, ""),
    drain: () => server.stop(),
    close: () => server.stop(true),
    reloadTls: () => {
      throw new Error("not serving HTTPS: there is no certificate to reload");
    },
  };
}

/**
 * HTTPS. Bun.serve cannot replace its certificate while running (its reload() ignores `tls`), so
 * TLS is terminated by a node:tls server, whose secure context can be replaced for new
 * handshakes while open connections keep theirs, and each connection's plaintext is relayed to
 * Bun.serve on a unix socket in a private directory.
 */
async function listenTls(options: ListenOptions, files: TlsFiles): Promise<Listener> {
  const socketDir = mkdtempSync(join(tmpdir(), "stategit-"));
  const socketPath = join(socketDir, "http.sock");
  const http = Bun.serve({
    unix: socketPath,
    fetch: options.fetch,
    maxRequestBodySize: options.maxRequestBodySize,
  });
  const connections = new Set<Socket>();
  const tls = createTlsServer(readTlsFiles(files), (client) => relay(client, socketPath, connections));
  try {
    await new Promise<void>((resolve, reject) => {
      tls.once("error", reject);
      tls.listen(options.port, options.hostname, () => {
        tls.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await http.stop(true);
    rmSync(socketDir, { recursive: true, force: true });
    throw error;
  }
  const address = tls.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const host = options.hostname.includes(":") ? `[${options.hostname}]` : options.hostname;
  const removeSocketDir = () => rmSync(socketDir, { recursive: true, force: true });
  return {
    url: `https://${host}:${port}`,
    drain: async () => {
      tls.close();
      await http.stop();
      removeSocketDir();
    },
    close: async () => {
      for (const socket of connections) socket.destroy();
      await http.stop(true);
      removeSocketDir();
    },
    reloadTls: () => tls.setSecureContext(readTlsFiles(files)),
  };
}

function readTlsFiles(files: TlsFiles): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
}

/** Pipes one TLS connection to the HTTP server and back; either side closing closes both. */
function relay(client: TLSSocket, socketPath: string, connections: Set<Socket>): void {
  const upstream = connect(socketPath);
  connections.add(client).add(upstream);
  client.pipe(upstream);
  upstream.pipe(client);
  const end = () => {
    client.destroy();
    upstream.destroy();
    connections.delete(client);
    connections.delete(upstream);
  };
  for (const socket of [client, upstream]) {
    socket.on("error", end);
    socket.on("close", end);
  }
  // Bun.serve's idle timeout does not apply to unix sockets: the TLS side keeps it.
  client.setTimeout(IDLE_TIMEOUT_SECONDS * 1000, end);
}

