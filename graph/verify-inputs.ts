// What verification compares a run with, gathered in one place for the graph's verify node, `sensei verify` and
// `sensei errors retry`: the source capture, the configured rules and queries, and the run's error queue.
import type { SenseiConfig } from '../core/config.js';
import { schemeOf } from '../connectors/endpoint.js';
import type { SenseiStore } from '../tools/store/sensei-store.js';
import { loadCapture, type CaptureStore } from '../tools/verification/capture-store.js';
import type { VerifyInput } from '../tools/verification/verify-migration.js';
import type { WaiverStore } from '../tools/verification/waivers.js';

/** Rows still queued (expected absent) and rows written later by `sensei errors retry` (under a corrected transformation). */
export interface QueueState {
  queued: Array<{ table: string; key: unknown }>;
  retried: Array<{ table: string; key: unknown }>;
}

export async function queueState(store: Pick<SenseiStore, 'listErrors'>, runId: string): Promise<QueueState> {
  const all = await store.listErrors(runId, { includeResolved: true });
  return { queued: all.filter((e) => e.resolvedAt === null), retried: all.filter((e) => e.resolvedAt !== null) };
}

/** The capture-related part of a run's verification input. */
export async function captureInputs(
  captures: CaptureStore,
  queue: QueueState,
  runId: string,
  config: Pick<SenseiConfig, 'rules' | 'queries' | 'source'>,
  waivers?: Pick<WaiverStore, 'list'>,
): Promise<Pick<VerifyInput, 'capture' | 'rules' | 'queries' | 'queued' | 'retried' | 'waivers'>> {
  return {
    waivers: waivers ? await waivers.list(runId) : [],
    capture: await loadCapture(captures, runId),
    rules: config.rules ?? [],
    queries: { queries: config.queries ?? [], captured: await captures.loadQueries(runId), sourceDialect: config.source.type ?? (schemeOf(config.source.url ?? '') || undefined) },
    ...queue,
  };
}
