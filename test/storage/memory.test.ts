import { MemoryBlobStore } from "../../src/storage/memory.ts";
import { describeBlobStoreContract } from "./contract.ts";

describeBlobStoreContract("memory", () => new MemoryBlobStore());
