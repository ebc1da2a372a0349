// V8 settings of the `sensei` process: how far its JavaScript heap grows past what is live, and how WebAssembly
// (PGlite's PostgreSQL, libpg-query) is compiled.
import { setFlagsFromString } from 'node:v8';

/**
 * After each full collection V8 sets the next heap limit at the live size times a factor it picks between 1.1 and 4;
 * while a run streams rows (capture, execution, certification) it picks high, so the heap, and the process's peak
 * memory, reaches several times what is live, garbage V8 has not yet needed to collect. A fixed ×1.5 keeps the peak
 * near the live size, for a few more full collections.
 */
export const HEAP_GROWING_PERCENT = 50;

/**
 * WebAssembly compiled once, by V8's baseline compiler (Liftoff), never recompiled by the optimising one: PGlite's
 * PostgreSQL is a large module, and tiering its hot functions up cost the `sensei` process ~50 MB of resident memory
 * and seconds of CPU at every start (measured: runtime up 217–235 → 176–178 MB, 5.1 → 1.0–1.7 s on a loaded
 * machine), while the embedded store does little work during a run (the rows go to the target, not to it).
 */
export const WASM_FLAGS = '--liftoff-only';

/** Apply both to this process. V8 reads them at each collection and at each WebAssembly compilation: call before the store opens. */
export function applyProcessFlags(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  setFlagsFromString(WASM_FLAGS);
}
