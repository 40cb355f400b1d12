export * from "./pktline.ts";
export * from "./sideband.ts";
