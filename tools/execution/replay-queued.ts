// Replay rows from the error queue through the same stage → validate → insert path, once the plan or data is fixed.
import { createHash } from 'node:crypto';
import type { Batch, IrValue } from '../../core/batch.js';
import type { Catalog } from '../../core/catalog.js';
import type { Plan } from '../../core/plan.js';
import type { ErrorQueueEntry } from '../../core/run.js';
import type { TargetConnector } from '../../connectors/connector.js';
import { ensureCheckpointTables, recordRetried } from './checkpoints.js';
import { loadBatch, tableContext } from './load-table.js';

/** One queued row as the store gives it back (decrypted). */
export interface QueuedRow {
  id: number;
  table: string;
  key: unknown;
  row: unknown;
}

export interface ReplayResult {
  /** Source table. */
  table: string;
  target: string;
  /** Queue ids now written to the target. */
  written: number[];
  /** Rows that fail again, with the new reason. */
  failed: Array<{ id: number; entry: ErrorQueueEntry }>;
}

/**
 * Writes what it can of `rows`, table by table in load order, each table in one transaction that also records the
 * written queue ids in the target (so the queue can be told even after a crash). Rows that fail again stay queued.
 */
export async function replayQueuedRows(runId: string, target: TargetConnector, plan: Plan, sourceCatalog: Catalog, rows: readonly QueuedRow[]): Promise<ReplayResult[]> {
  await ensureCheckpointTables(target);
  const results: ReplayResult[] = [];
  for (const name of plan.phases.flat()) {
    const mapping = plan.tables.find((t) => t.target === name);
    const sourceTable = mapping && sourceCatalog.tables.find((t) => t.name === mapping.source);
    if (!mapping || !sourceTable) continue;
    const mine = rows.filter((r) => r.table === mapping.source && r.row !== null && typeof r.row === 'object');
    if (mine.length === 0) continue;
    const cols = sourceTable.columns.filter((c) => !c.isGenerated);
    const batch: Batch = {
      table: sourceTable.name,
      columns: cols.map((c) => ({ name: c.name, declaredType: c.declaredType, logicalType: c.logicalType, encoding: 'utf8' })),
      values: cols.map((c) => mine.map((r) => asStaged((r.row as Record<string, unknown>)[c.name]))),
      rowCount: mine.length,
      lastKey: null,
      offset: 0,
    };
    const ctx = tableContext(mapping, sourceTable, target);
    const result = await target.transaction(async (s) => {
      const rejected: ErrorQueueEntry[] = [];
      await loadBatch(s, ctx, batch, createHash('sha256'), rejected, { created: false });
      // Rejected entries carry the key loadBatch computed for their row: the same function gives every row's key.
      const keyOf = (i: number): string => JSON.stringify(rowKey(sourceTable.primaryKey, batch, i));
      const failedKeys = new Map(rejected.map((e) => [JSON.stringify(e.key), e]));
      const written: number[] = [];
      const failed: ReplayResult['failed'] = [];
      mine.forEach((r, i) => {
        const e = failedKeys.get(keyOf(i));
        if (e) failed.push({ id: r.id, entry: e });
        else written.push(r.id);
      });
      await recordRetried(s, runId, written);
      return { table: mapping.source, target: mapping.target, written, failed };
    });
    results.push(result);
  }
  return results;
}

function asStaged(v: unknown): IrValue {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? v : String(v);
}

function rowKey(primaryKey: readonly string[], batch: Batch, r: number): Record<string, unknown> {
  const names = batch.columns.map((c) => c.name);
  const idx = primaryKey.map((k) => names.indexOf(k));
  return idx.length > 0 && idx.every((i) => i >= 0)
    ? Object.fromEntries(idx.map((i) => [names[i]!, batch.values[i]![r] ?? null]))
    : { _row: batch.offset + r + 1 };
}
