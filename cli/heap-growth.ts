// How far the `sensei` process lets its JavaScript heap grow past what is live.
import { setFlagsFromString } from 'node:v8';

/**
 * After each full collection V8 sets the next heap limit at the live size times a factor it picks between 1.1 and 4;
 * while a run streams rows (capture, execution, certification) it picks high, so the heap, and the process's peak
 * memory, reaches several times what is live, garbage V8 has not yet needed to collect. A fixed ×1.5 keeps the peak
 * near the live size, for a few more full collections.
 */
export const HEAP_GROWING_PERCENT = 50;

/** Apply `HEAP_GROWING_PERCENT` to this process (V8 reads it at each collection, so it works after start-up). */
export function limitHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
