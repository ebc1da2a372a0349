// The composition root: one store, the agents, the graph, and per-run connections, for the CLI and the server.
import { Command } from '@langchain/langgraph';
import type { SenseiConfig } from '../core/config.js';
import { RunStateError, SenseiError } from '../core/errors.js';
import type { VerificationReport } from '../core/findings.js';
import type { Plan } from '../core/plan.js';
import type { RetryNotice, RunStatus, Stage, TableOutcome, TableProgress } from '../core/run.js';
import { createAmani, type ApprovalRequest } from '../agents/amani.js';
import type { PatternLibrary } from '../core/profile.js';
import { createMapper } from '../agents/mapper.js';
import { createSchemaAnalyst } from '../agents/schema-analyst.js';
import { createVerifier } from '../agents/verifier.js';
import { openConnections, type Connections } from '../tools/ingest/connections.js';
import { acquireRunLock, type RunLock } from '../tools/execution/run-lock.js';
import { mappingModelFromEnv } from '../tools/llm/mapping-model.js';
import { columnDescriberFromEnv } from '../tools/analysis/describe-columns.js';
import { createPatternLibrary } from '../tools/patterns/pattern-library.js';
import { loadSecretBox } from '../tools/store/secret-box.js';
import { openStore, type SenseiStore } from '../tools/store/sensei-store.js';
import { createCaptureStore } from '../tools/verification/capture-store.js';
import { createWaiverStore } from '../tools/verification/waivers.js';
import { createMigrationGraph, type MigrationGraph } from './migration-graph.js';
import { NODE } from './node-names.js';
import { retryQueuedRows, type RetryOptions, type RetryReport } from './retry-run.js';
import { certificatePathFor } from './certify-run.js';
import { queueState } from './verify-inputs.js';
import { createWaiverService, type WaiverService } from './waiver-service.js';
import type { MigrationStateT } from './state.js';

export interface SenseiRuntimeOptions {
  /** Sensei's home directory: embedded store, keys, certificates. */
  home: string;
  /** A PostgreSQL server (with pgvector) for the store; default the embedded store under `home`. */
  storeUrl?: string;
  onProgress?: (runId: string, p: TableProgress) => void;
  onStage?: (runId: string, stage: Stage) => void;
  /** Told before execution retries work after a lost connection (what failed, which retry, in how long). */
  onRetry?: (runId: string, notice: RetryNotice) => void;
  /**
   * The pattern library the mapper asks first and that learns approved and corrected mappings. Default: the pgvector
   * library on the store; `null` for none (nothing is asked or learned).
   */
  patterns?: PatternLibrary | null;
}

/** What a run came to. Never thrown: failures are in `status` and `error` (errors as values). */
export interface RunResult {
  runId: string;
  status: RunStatus;
  stage: Stage;
  tables: TableOutcome[];
  plan: Plan | null;
  certificatePath: string | null;
  /** Per table, where the certificate's row hashes came from: the capture verification found equal, or the target. */
  certifiedFrom: MigrationStateT['certifiedFrom'];
  approvalRequest: ApprovalRequest | null;
  verification: VerificationReport | null;
  /** AMANI's answer to the last stakeholder action, when there was one. */
  reply: string | null;
  error: Error | null;
}

export interface SenseiRuntime {
  store: SenseiStore;
  graph: MigrationGraph;
  /** Waivers of the runs' findings (listing, adding, revoking, audited), for every channel. */
  waivers: WaiverService;
  /** Start a run and drive it as far as it goes: done, failed, or waiting for approval. */
  start(config: SenseiConfig, baseDir: string, options?: { preApproved?: boolean; runId?: string }): Promise<RunResult>;
  /** Continue a run that waits for approval with a stakeholder's answer (validated by AMANI). */
  resume(runId: string, answer: unknown): Promise<RunResult>;
  /** Replay a finished run's queued rows, then verify and certify it again. */
  retryErrors(runId: string, options?: RetryOptions): Promise<RetryReport>;
  /**
   * Continue a run that was interrupted (killed, failed, stopped by its error policy) from its last checkpoint. A run
   * whose verification failed is verified again (with its approved waivers) and certified when it passes.
   */
  continueRun(runId: string): Promise<RunResult>;
  /** The run's state as last checkpointed (null when the store has no such run), and its approval request if it waits. */
  inspect(runId: string): Promise<{ state: MigrationStateT; request: ApprovalRequest | null } | null>;
  close(): Promise<void>;
}

export function newRunId(): string {
  const t = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `run_${t}_${Math.random().toString(36).slice(2, 8)}`;
}

export async function createRuntime(options: SenseiRuntimeOptions): Promise<SenseiRuntime> {
  const store = await openStore({ home: options.home, ...(options.storeUrl ? { url: options.storeUrl } : {}) });
  const open = new Map<string, Promise<Connections>>();
  const connectionsFor = (state: MigrationStateT): Promise<Connections> => {
    let c = open.get(state.runId);
    if (!c) {
      c = openConnections(state.config, state.baseDir);
      open.set(state.runId, c);
      c.catch(() => open.delete(state.runId));
    }
    return c;
  };
  const release = async (runId: string): Promise<void> => {
    const c = open.get(runId);
    open.delete(runId);
    if (c) await (await c.catch(() => null))?.close();
  };
  const patterns = options.patterns === undefined ? createPatternLibrary(store.pool) : options.patterns;
  const captures = createCaptureStore(store.pool, loadSecretBox(options.home), options.home);
  const graph = createMigrationGraph({
    checkpointer: store.checkpointer,
    // Descriptions by the configured model from statistics only, deterministic without one or when it fails.
    analyst: createSchemaAnalyst({
      describer: columnDescriberFromEnv(process.env, (e) => process.stderr.write(`sensei: LLM column descriptions failed, deterministic ones kept: ${(e as Error).message}\n`)),
    }),
    mapper: createMapper({ model: mappingModelFromEnv(), patterns }),
    amani: createAmani(),
    verifier: createVerifier(),
    captures,
    waivers: createWaiverStore(store.pool),
    queued: (runId) => queueState(store, runId),
    errors: {
      add: async (runId, entries) => {
        await store.addErrors(runId, entries);
      },
      clear: async (runId, table) => {
        await store.clearErrors(runId, table);
      },
      count: (runId) => store.countErrors(runId),
    },
    connections: connectionsFor,
    certificatePath: (runId) => certificatePathFor(options.home, runId),
    home: options.home,
    onStage: async (runId, stage) => {
      options.onStage?.(runId, stage);
      await store.updateRun(runId, { stage });
    },
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    audit: async (runId, entry) => {
      await store.recordApproval({ runId, decision: entry.decision, by: entry.by, ...(entry.reason ? { reason: entry.reason } : {}), detail: entry.detail });
    },
    ...(patterns ? { patterns } : {}),
  });

  const drive = async (runId: string, input: unknown): Promise<RunResult> => {
    // sync: each step's checkpoint is stored before the next step starts, so a crash never loses a finished stage.
    const cfg = { configurable: { thread_id: runId }, durability: 'sync' as const };
    let error: Error | null = null;
    // Thrown, not recorded: the run belongs to the process that holds the lock.
    const lock: RunLock = acquireRunLock(options.home, runId);
    try {
      await graph.invoke(input as never, cfg);
    } catch (e) {
      error = e instanceof Error ? e : new Error(String(e));
    } finally {
      lock.release();
      await release(runId);
    }
    const snapshot = await graph.getState(cfg);
    const state = snapshot.values as MigrationStateT;
    const request = (snapshot.tasks.flatMap((t) => t.interrupts)[0]?.value ?? null) as ApprovalRequest | null;
    const status: RunStatus = error ? 'failed' : request ? 'awaiting_approval' : (state.status ?? 'failed');
    const result: RunResult = {
      runId,
      status,
      stage: state.stage ?? 'analyze',
      tables: state.outcomes ?? [],
      plan: state.mappingPlan ?? null,
      certificatePath: state.certificatePath ?? null,
      certifiedFrom: state.certifiedFrom ?? null,
      approvalRequest: error ? null : request,
      verification: state.verification ?? null,
      reply: state.amaniReply ?? null,
      error,
    };
    await store.updateRun(runId, {
      status,
      stage: result.stage,
      summary: { tables: result.tables, verification_passed: result.verification?.passed ?? null },
      error: error ? (error instanceof SenseiError ? `${error.code}: ${error.message}` : error.message) : null,
      certificatePath: result.certificatePath,
    });
    if (result.certificatePath && status === 'completed') {
      const { readFile } = await import('node:fs/promises');
      await store.saveCertificate(runId, await readFile(result.certificatePath, 'utf8'), result.certificatePath);
    }
    return result;
  };

  const inspect: SenseiRuntime['inspect'] = async (runId) => {
    const snapshot = await graph.getState({ configurable: { thread_id: runId } });
    if (!snapshot.values || Object.keys(snapshot.values).length === 0) return null;
    const request = (snapshot.tasks.flatMap((t) => t.interrupts)[0]?.value ?? null) as ApprovalRequest | null;
    return { state: snapshot.values as MigrationStateT, request };
  };

  return {
    store,
    graph,
    waivers: createWaiverService({ store, captures, state: async (runId) => (await inspect(runId))?.state ?? null }),
    async start(config, baseDir, opts = {}) {
      const runId = opts.runId ?? newRunId();
      await store.createRun({ id: runId, status: 'running', stage: 'analyze', config: { config, baseDir } });
      return drive(runId, {
        runId,
        config,
        baseDir,
        preApproved: opts.preApproved ?? false,
        stage: 'analyze',
        status: 'running',
        sourceCatalog: null,
        plannedTarget: null,
        mappingPlan: null,
        approval: null,
        capturedAt: null,
        outcomes: [],
        verification: null,
        certificatePath: null,
      });
    },
    async resume(runId, answer) {
      const run = await store.getRun(runId);
      if (!run) throw new RunStateError(`no run ${runId} in the store at ${store.location}`, { hint: 'check the run id (sensei runs list) and SENSEI_HOME / SENSEI_STORE_URL' });
      if (run.status !== 'awaiting_approval') {
        throw new RunStateError(`run ${runId} is ${run.status}, not waiting for approval`, { hint: 'only a run paused for approval can be approved or rejected' });
      }
      // AMANI validates the answer inside the graph too; checking here keeps a malformed answer from touching the run.
      createAmani().parseAction(answer);
      return drive(runId, new Command({ resume: answer }));
    },
    async retryErrors(runId, opts = {}) {
      if (!(await store.getRun(runId))) throw new RunStateError(`no run ${runId} in the store at ${store.location}`, { hint: 'check the run id and SENSEI_HOME / SENSEI_STORE_URL' });
      const lock = acquireRunLock(options.home, runId);
      try {
        return await retryQueuedRows({ store, graph, captures, home: options.home }, runId, opts);
      } finally {
        lock.release();
      }
    },
    async continueRun(runId) {
      const run = await store.getRun(runId);
      if (!run) throw new RunStateError(`no run ${runId} in the store at ${store.location}`, { hint: 'check the run id and SENSEI_HOME / SENSEI_STORE_URL' });
      if (run.status === 'awaiting_approval') throw new RunStateError(`run ${runId} waits for approval`, { hint: `answer it with: sensei approve ${runId}` });
      if (run.status === 'completed' || run.status === 'rejected') throw new RunStateError(`run ${runId} is ${run.status}: there is nothing to resume`);
      const cfg = { configurable: { thread_id: runId } };
      const snapshot = await graph.getState(cfg);
      const ended = snapshot.values as Partial<MigrationStateT>;
      if (snapshot.next.length === 0 && ended.stage === 'verify' && ended.verification && !ended.verification.passed) {
        // The graph ended on a failed verification: enter it again after execution, so the verify node (with the run's
        // approved waivers and any fix made since) and the certify node run as in the first pass.
        await graph.updateState(cfg, { status: 'running' }, NODE.execute);
        return drive(runId, null);
      }
      if (snapshot.next.length === 0) {
        throw new RunStateError(`run ${runId} ended at stage ${run.stage} (${run.error ?? run.status}) and has no step left to resume`, {
          hint: 'start a new run with sensei migrate',
        });
      }
      return drive(runId, null);
    },
    inspect,
    async close() {
      await Promise.allSettled([...open.keys()].map(release));
      await store.close();
    },
  };
}
