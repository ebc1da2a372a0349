// What verification must know of a run's error queue: rows still queued (expected absent from the target) and rows
// written later by \`sensei errors retry\` (present, but under a corrected transformation the capture predates).
import type { SenseiStore } from '../tools/store/sensei-store.js';

export interface QueueState {
  queued: Array<{ table: string; key: unknown }>;
  retried: Array<{ table: string; key: unknown }>;
}

export async function queueState(store: Pick<SenseiStore, 'listErrors'>, runId: string): Promise<QueueState> {
  const all = await store.listErrors(runId, { includeResolved: true });
  return { queued: all.filter((e) => e.resolvedAt === null), retried: all.filter((e) => e.resolvedAt !== null) };
}
