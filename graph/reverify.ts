// Verify a finished run again, on demand (`sensei verify RUN_ID`): same checks, same capture, result stored.
import { RunStateError } from '../core/errors.js';
import type { VerificationReport } from '../core/findings.js';
import { createVerifier } from '../agents/verifier.js';
import { openConnections } from '../tools/ingest/connections.js';
import { loadSecretBox } from '../tools/store/secret-box.js';
import { createCaptureStore } from '../tools/verification/capture-store.js';
import type { SenseiRuntime } from './runtime.js';
import { captureInputs, queueState } from './verify-inputs.js';
import type { MigrationStateT } from './state.js';

/** Throws RunStateError when the run is unknown or never executed. The report is also stored as a validation result. */
export async function reverifyRun(runtime: SenseiRuntime, home: string, runId: string): Promise<VerificationReport> {
  const snapshot = await runtime.graph.getState({ configurable: { thread_id: runId } });
  const state = snapshot.values as Partial<MigrationStateT>;
  if (!state.runId) throw new RunStateError(`no run ${runId} in the store at ${runtime.store.location}`, { hint: 'check the run id and SENSEI_HOME / SENSEI_STORE_URL' });
  if (!state.mappingPlan || !state.plannedTarget || !state.config || !state.outcomes || state.outcomes.length === 0) {
    throw new RunStateError(`run ${runId} has not executed, so there is nothing to verify`, { hint: 'approve it first (sensei approve RUN_ID) or start a new migration' });
  }
  const captures = createCaptureStore(runtime.store.pool, loadSecretBox(home));
  const conns = await openConnections(state.config, state.baseDir ?? '.');
  try {
    const report = await createVerifier().verify(conns.target, {
      plan: state.mappingPlan,
      plannedTarget: state.plannedTarget,
      outcomes: state.outcomes,
      ...(await captureInputs(captures, await queueState(runtime.store, runId), runId, state.config)),
    });
    await captures.saveValidation(runId, report);
    return report;
  } finally {
    await conns.close();
  }
}
