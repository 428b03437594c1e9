// Entry point: `node interop/relay.mjs ARGS` from any directory. Registers tsx (resolved next to this file)
// so Node 20 runs relay.ts as it is, with no build step.
import { register } from "tsx/esm/api";

register();
await import("./relay.ts");
