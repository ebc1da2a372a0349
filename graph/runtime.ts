// The composition root: one store, the agents, the graph, and per-run connections, for the CLI and the server.
import { join } from 'node:path';
import { Command } from '@langchain/langgraph';
import type { SenseiConfig } from '../core/config.js';
import { RunStateError, SenseiError } from '../core/errors.js';
import type { VerificationReport } from '../core/findings.js';
import type { Plan } from '../core/plan.js';
import type { RunStatus, Stage, TableOutcome, TableProgress } from '../core/run.js';
import { createAmani, type ApprovalRequest } from '../agents/amani.js';
import { createMapper } from '../agents/mapper.js';
import { createSchemaAnalyst } from '../agents/schema-analyst.js';
import { createVerifier } from '../agents/verifier.js';
import { openConnections, type Connections } from '../tools/ingest/connections.js';
import { loadSecretBox } from '../tools/store/secret-box.js';
import { openStore, type SenseiStore } from '../tools/store/sensei-store.js';
import { createCaptureStore } from '../tools/verification/capture-store.js';
import { createMigrationGraph, type MigrationGraph } from './migration-graph.js';
import type { MigrationStateT } from './state.js';

export interface SenseiRuntimeOptions {
  /** Sensei's home directory: embedded store, keys, certificates. */
  home: string;
  /** A PostgreSQL server (with pgvector) for the store; default the embedded store under `home`. */
  storeUrl?: string;
  onProgress?: (runId: string, p: TableProgress) => void;
  onStage?: (runId: string, stage: Stage) => void;
}

/** What a run came to. Never thrown: failures are in `status` and `error` (errors as values). */
export interface RunResult {
  runId: string;
  status: RunStatus;
  stage: Stage;
  tables: TableOutcome[];
  plan: Plan | null;
  certificatePath: string | null;
  approvalRequest: ApprovalRequest | null;
  verification: VerificationReport | null;
  error: Error | null;
}

export interface SenseiRuntime {
  store: SenseiStore;
  graph: MigrationGraph;
  /** Start a run and drive it as far as it goes: done, failed, or waiting for approval. */
  start(config: SenseiConfig, baseDir: string, options?: { preApproved?: boolean; runId?: string }): Promise<RunResult>;
  /** Continue a run that waits for approval with a stakeholder's answer (validated by AMANI). */
  resume(runId: string, answer: unknown): Promise<RunResult>;
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
  const graph = createMigrationGraph({
    checkpointer: store.checkpointer,
    analyst: createSchemaAnalyst(),
    mapper: createMapper(),
    amani: createAmani(),
    verifier: createVerifier(),
    captures: createCaptureStore(store.pool, loadSecretBox(options.home)),
    queued: (runId) => store.listErrors(runId),
    errors: {
      add: async (runId, entries) => {
        await store.addErrors(runId, entries);
      },
    },
    connections: connectionsFor,
    certificatePath: (runId) => join(options.home, 'certificates', `${runId}.json`),
    home: options.home,
    onStage: async (runId, stage) => {
      options.onStage?.(runId, stage);
      await store.updateRun(runId, { stage });
    },
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    onApproval: async (runId, d) => {
      await store.recordApproval({ runId, decision: d.decision, by: d.by, ...(d.reason ? { reason: d.reason } : {}), at: d.at });
    },
  });

  const drive = async (runId: string, input: unknown): Promise<RunResult> => {
    // sync: each step's checkpoint is stored before the next step starts, so a crash never loses a finished stage.
    const cfg = { configurable: { thread_id: runId }, durability: 'sync' as const };
    let error: Error | null = null;
    try {
      await graph.invoke(input as never, cfg);
    } catch (e) {
      error = e instanceof Error ? e : new Error(String(e));
    } finally {
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
      approvalRequest: error ? null : request,
      verification: state.verification ?? null,
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

  return {
    store,
    graph,
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
      createAmani().decide(answer);
      return drive(runId, new Command({ resume: answer }));
    },
    async close() {
      await Promise.allSettled([...open.keys()].map(release));
      await store.close();
    },
  };
}
