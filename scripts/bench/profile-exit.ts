/**
 * Preloaded into a server profiled with `bun --cpu-prof`: Bun writes the profile only on a normal
 * exit, so SIGTERM (how the serve benchmark stops its servers) becomes one.
 */
process.on("SIGTERM", () => process.exit(0));
