// Verify a finished run again, on demand (`sensei verify RUN_ID`): same checks, same capture, approved waivers
// applied, result stored; with `certify`, a passing run gets its certificate (re)issued with the waivers in it.
import { RunStateError } from '../core/errors.js';
import type { VerificationReport } from '../core/findings.js';
import { createVerifier } from '../agents/verifier.js';
import { openConnections } from '../tools/ingest/connections.js';
import { loadSecretBox } from '../tools/store/secret-box.js';
import { createCaptureStore } from '../tools/verification/capture-store.js';
import { createWaiverStore } from '../tools/verification/waivers.js';
import { certifyRun } from './certify-run.js';
import type { SenseiRuntime } from './runtime.js';
import { captureInputs, queueState } from './verify-inputs.js';
import type { MigrationStateT } from './state.js';

export interface ReverifyOptions {
  /** Issue the certificate again when verification passes (after waivers, a failed run can be certified). Default false. */
  certify?: boolean;
}

/**
 * Throws RunStateError when the run is unknown or never executed. The report is also stored as a validation result.
 * `certificatePath` is set when a certificate was issued.
 */
export async function reverifyRun(
  runtime: SenseiRuntime,
  home: string,
  runId: string,
  options: ReverifyOptions = {},
): Promise<VerificationReport & { certificatePath?: string }> {
  const snapshot = await runtime.graph.getState({ configurable: { thread_id: runId } });
  const state = snapshot.values as Partial<MigrationStateT>;
  if (!state.runId) throw new RunStateError(`no run ${runId} in the store at ${runtime.store.location}`, { hint: 'check the run id and SENSEI_HOME / SENSEI_STORE_URL' });
  if (!state.mappingPlan || !state.plannedTarget || !state.config || !state.outcomes || state.outcomes.length === 0) {
    throw new RunStateError(`run ${runId} has not executed, so there is nothing to verify`, { hint: 'approve it first (sensei approve RUN_ID) or start a new migration' });
  }
  const captures = createCaptureStore(runtime.store.pool, loadSecretBox(home), home);
  const conns = await openConnections(state.config, state.baseDir ?? '.');
  try {
    const report = await createVerifier().verify(conns.target, {
      plan: state.mappingPlan,
      plannedTarget: state.plannedTarget,
      outcomes: state.outcomes,
      sourceCatalog: state.sourceCatalog,
      ...(await captureInputs(captures, await queueState(runtime.store, runId), runId, state.config, createWaiverStore(runtime.store.pool))),
    });
    await captures.saveValidation(runId, report);
    if (!options.certify || !report.passed) return report;
    if (!state.approval) throw new RunStateError(`run ${runId} was never approved, so it cannot be certified`, { hint: `approve it first (sensei approve ${runId})` });
    const certificatePath = await certifyRun({
      store: runtime.store,
      home,
      runId,
      source: { dialect: conns.source.dialect, database: conns.source.database },
      target: conns.target,
      plan: state.mappingPlan,
      outcomes: state.outcomes,
      config: state.config,
      approval: state.approval,
      verification: report,
      captures,
    });
    await runtime.graph.updateState({ configurable: { thread_id: runId } }, { verification: report, certificatePath, status: 'completed' });
    await runtime.store.updateRun(runId, { status: 'completed', certificatePath });
    return { ...report, certificatePath };
  } finally {
    await conns.close();
  }
}
