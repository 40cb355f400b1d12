/** What Repositories reports about its cache of loaded repositories (the server counts it in /metrics). */
export interface RepositoryCacheMetrics {
  /** A request found its repository loaded and current. */
  hit(): void;
  /** A request had to read the repository's manifest and packs from storage. */
  miss(): void;
  /** The memory the cache holds now, after loading or evicting. */
  cachedBytes(bytes: number): void;
}
