// `sensei errors retry`: replay a finished run's queued rows (after the plan or the data was fixed), then verify and
// certify the run again, so the certificate always describes the target as it is.
import { captureInputs, queueState } from './verify-inputs.js';
import type { CaptureStore } from '../tools/verification/capture-store.js';
import { createWaiverStore } from '../tools/verification/waivers.js';
import { RunStateError } from '../core/errors.js';
import type { Plan } from '../core/plan.js';
import type { TableOutcome } from '../core/run.js';
import { createVerifier } from '../agents/verifier.js';
import { certifyRun } from './certify-run.js';
import { deleteRunCheckpoints, readRetried } from '../tools/execution/checkpoints.js';
import { replayQueuedRows, type ReplayResult } from '../tools/execution/replay-queued.js';
import { openConnections } from '../tools/ingest/connections.js';
import { checkExpression } from '../tools/planning/expression-guard.js';
import type { SenseiStore } from '../tools/store/sensei-store.js';
import type { MigrationGraph } from './migration-graph.js';
import type { MigrationStateT } from './state.js';

export interface RetryOptions {
  /** Only this source table's rows. Default: every table. */
  table?: string;
  /** New transformations, `source_table.source_column` → expression over `src`; the column's validation rules are dropped. */
  transforms?: Record<string, string>;
}

export interface RetryReport {
  runId: string;
  retried: number;
  written: number;
  stillQueued: number;
  tables: ReplayResult[];
  verificationPassed: boolean;
  /** The re-issued certificate, or null when verification failed. */
  certificatePath: string | null;
}

export interface RetryDeps {
  store: SenseiStore;
  graph: MigrationGraph;
  home: string;
  /** The source captures verification compares with (as in the graph). Default none. */
  captures?: CaptureStore;
}

export async function retryQueuedRows(deps: RetryDeps, runId: string, options: RetryOptions = {}): Promise<RetryReport> {
  const cfg = { configurable: { thread_id: runId } };
  const state = (await deps.graph.getState(cfg)).values as MigrationStateT;
  if (!state?.mappingPlan || !state.sourceCatalog || (state.stage !== 'done' && state.stage !== 'verify' && state.stage !== 'certify')) {
    throw new RunStateError(`run ${runId} has not finished loading, so its queued rows cannot be retried yet`, {
      hint: `finish it first (sensei resume ${runId}), then retry`,
    });
  }
  const plan = await applyTransforms(state.mappingPlan, state.sourceCatalog, options.transforms ?? {});
  const connections = await openConnections(state.config, state.baseDir);
  try {
    const { target, source } = connections;
    // A retry that crashed after its commit but before telling the store: tell it now.
    await deps.store.resolveErrors(runId, await readRetried(target, runId));
    const queued = (await deps.store.listErrors(runId)).filter((e) => options.table === undefined || e.table === options.table);
    const tables = await replayQueuedRows(runId, target, plan, state.sourceCatalog, queued);
    const written = tables.flatMap((t) => t.written);
    await deps.store.resolveErrors(runId, written);

    const outcomes: TableOutcome[] = state.outcomes.map((o) => {
      const n = tables.find((t) => t.table === o.source)?.written.length ?? 0;
      return { ...o, rows_written: o.rows_written + n, rows_errored: o.rows_errored - n };
    });
    const captures = deps.captures;
    const verification = await createVerifier().verify(target, {
      plan,
      plannedTarget: state.plannedTarget!,
      outcomes,
      sourceCatalog: state.sourceCatalog,
      // Waivers approved for this run still hold after a retry (as in `sensei verify`).
      ...(captures ? await captureInputs(captures, await queueState(deps.store, runId), runId, state.config, createWaiverStore(deps.store.pool)) : {}),
    });
    await captures?.saveValidation(runId, verification);
    let certificatePath: string | null = null;
    if (verification.passed && state.approval) {
      certificatePath = await certifyRun({
        store: deps.store,
        home: deps.home,
        runId,
        source: { dialect: source.dialect, database: source.database },
        target,
        plan,
        outcomes,
        config: state.config,
        approval: state.approval,
        verification,
        captures,
      });
      await deleteRunCheckpoints(target, runId);
    }
    await deps.graph.updateState(cfg, { mappingPlan: plan, outcomes, verification, certificatePath, status: verification.passed ? 'completed' : 'failed' });
    await deps.store.updateRun(runId, {
      status: verification.passed ? 'completed' : 'failed',
      summary: { tables: outcomes, verification_passed: verification.passed },
      certificatePath,
    });
    return {
      runId,
      retried: queued.length,
      written: written.length,
      stillQueued: tables.reduce((a, t) => a + t.failed.length, 0) + queued.filter((q) => !tables.some((t) => t.table === q.table)).length,
      tables,
      verificationPassed: verification.passed,
      certificatePath,
    };
  } finally {
    await connections.close();
  }
}

/** The plan with the given transformations replaced, each checked by the expression guard first. */
async function applyTransforms(plan: Plan, catalog: NonNullable<MigrationStateT['sourceCatalog']>, transforms: Record<string, string>): Promise<Plan> {
  if (Object.keys(transforms).length === 0) return plan;
  const next: Plan = structuredClone(plan);
  for (const [where, expression] of Object.entries(transforms)) {
    const [table, column] = where.split('.');
    const mapping = next.tables.find((t) => t.source === table)?.columns.find((c) => c.sourceColumn === column);
    if (!table || !column || !mapping) {
      throw new RunStateError(`--transform ${where}: the plan maps no source column ${where}`, { hint: 'write it as source_table.source_column=EXPRESSION' });
    }
    const allowed = catalog.tables.find((t) => t.name === table)?.columns.map((c) => c.name) ?? [];
    const check = await checkExpression(expression, { allowedColumns: allowed });
    if (!check.ok) throw new RunStateError(`--transform ${where}: ${check.reason}`, { hint: 'use an expression over src."column" with allowed functions only' });
    mapping.transformation = expression;
    mapping.validationRules = [];
    mapping.origin = 'user';
    mapping.rationale = `changed by a retry of the queued rows`;
  }
  return next;
}
