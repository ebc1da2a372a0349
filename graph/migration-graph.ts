// The LangGraph state machine: analyze → plan → approve → execute → verify → certify.
import { resolve } from 'node:path';
import { END, interrupt, START, StateGraph, type BaseCheckpointSaver } from '@langchain/langgraph';
import { PlanError } from '../core/errors.js';
import type { ErrorSink, RetryNotice, TableProgress } from '../core/run.js';
import type { Amani } from '../agents/amani.js';
import { applyAction, type AuditEntry } from '../agents/amani-apply.js';
import { learnMappings } from '../agents/amani-learn.js';
import type { PatternLibrary } from '../core/profile.js';
import type { Mapper } from '../agents/mapper.js';
import type { SchemaAnalyst } from '../agents/schema-analyst.js';
import type { Verifier } from '../agents/verifier.js';
import { issueCertificate } from '../tools/certification/issue-certificate.js';
import { deleteRunCheckpoints } from '../tools/execution/checkpoints.js';
import { executePlan, executionStrategy } from '../tools/execution/execute-plan.js';
import { captureSource } from '../tools/verification/capture-source.js';
import { captureQueries } from '../tools/verification/query-replay.js';
import { loadCapture, type CaptureStore } from '../tools/verification/capture-store.js';
import type { WaiverStore } from '../tools/verification/waivers.js';
import type { Connections } from '../tools/ingest/connections.js';
import { NODE } from './node-names.js';
import { captureInputs, type QueueState } from './verify-inputs.js';
import { MigrationState, type MigrationStateT, type MigrationUpdate } from './state.js';

export interface MigrationGraphDeps {
  checkpointer: BaseCheckpointSaver;
  analyst: SchemaAnalyst;
  mapper: Mapper;
  amani: Amani;
  verifier: Verifier;
  errors: ErrorSink;
  /** Where the source capture and validation results are kept; without it the graph verifies without a capture. */
  captures?: CaptureStore;
  /** The runs' approved waivers: verification lists a waived finding instead of failing on it. Default none. */
  waivers?: Pick<WaiverStore, 'list'>;
  /** The run's error queue (table and key), so rows queued during execution are not reported missing. */
  queued?: (runId: string) => Promise<QueueState>;
  /** Opens (once per run and process) the run's source and target. */
  connections(state: MigrationStateT): Promise<Connections>;
  /** Where the certificate of a run is written. */
  certificatePath(runId: string): string;
  home: string;
  onStage?: (runId: string, stage: MigrationStateT['stage']) => Promise<void> | void;
  onProgress?: (runId: string, p: TableProgress) => void;
  /** Told before execution retries work after a lost connection. */
  onRetry?: (runId: string, notice: RetryNotice) => void;
  /** Appends to the approvals audit log: every automatic decision and every stakeholder action. */
  audit?: (runId: string, entry: AuditEntry) => Promise<void> | void;
  /** Learns every approved or corrected mapping (provenance: run, stakeholder, time). Default: nothing is learned. */
  patterns?: PatternLibrary;
}

const need = <T>(value: T | null | undefined, what: string): T => {
  if (value === null || value === undefined) throw new PlanError(`internal: ${what} is missing from the run state`);
  return value;
};

export function createMigrationGraph(deps: MigrationGraphDeps) {
  const stage = async (state: MigrationStateT, s: MigrationStateT['stage']): Promise<void> => {
    await deps.onStage?.(state.runId, s);
  };

  const analyze = async (state: MigrationStateT): Promise<MigrationUpdate> => {
    await stage(state, 'analyze');
    const { source } = await deps.connections(state);
    return { sourceCatalog: await deps.analyst.analyze(source), stage: 'analyze' };
  };

  const plan = async (state: MigrationStateT): Promise<MigrationUpdate> => {
    await stage(state, 'plan');
    const { source, target } = await deps.connections(state);
    const strategy = state.config.strategy;
    const ddlPath = state.config.target.schema ? resolve(state.baseDir, state.config.target.schema) : undefined;
    const result = await deps.mapper.plan({
      source: need(state.sourceCatalog, 'source catalog'),
      target,
      sourceConnector: source,
      ...(ddlPath ? { ddlPath } : {}),
      thresholds: { autoApproveAbove: strategy.auto_approve_above, reviewAbove: strategy.review_above },
      ...(state.config.casts ? { casts: state.config.casts } : {}),
      feedback: state.feedback,
    });
    return { mappingPlan: result.plan, plannedTarget: result.plannedTarget, stage: 'plan' };
  };

  // Only asks and records: on resume LangGraph re-runs this node from the top, so no side effect happens before
  // interrupt() returns. `apply_decision` acts on the recorded action.
  const approve = async (state: MigrationStateT): Promise<MigrationUpdate> => {
    const request = deps.amani.request(state.runId, need(state.mappingPlan, 'plan'), { preApproved: state.preApproved, approvedKeys: state.approvedKeys });
    if (request === null) {
      const human = state.approval?.decision === 'approve' ? state.approval : null;
      const decision = human ?? deps.amani.autoDecision({ preApproved: state.preApproved });
      if (!human) await deps.audit?.(state.runId, { decision: 'approve', by: decision.by, detail: { action: { action: 'approve', by: decision.by }, before: null, after: 'all' } });
      return { approval: decision, pendingAction: null, stage: 'approve', status: 'running' };
    }
    const action = deps.amani.parseAction(interrupt(request));
    return { pendingAction: action, stage: 'approve' };
  };

  const applyDecision = async (state: MigrationStateT): Promise<MigrationUpdate> => {
    const action = need(state.pendingAction, 'stakeholder action');
    const applied = await applyAction(
      {
        plan: need(state.mappingPlan, 'plan'),
        sourceCatalog: need(state.sourceCatalog, 'source catalog'),
        plannedTarget: need(state.plannedTarget, 'planned target'),
        strategy: state.config.strategy,
        approvedKeys: state.approvedKeys,
      },
      action,
    );
    if (applied.audit) await deps.audit?.(state.runId, applied.audit);
    if (deps.patterns && applied.learned.length > 0) {
      await learnMappings(deps.patterns, { runId: state.runId, by: action.by, mappings: applied.learned, source: need(state.sourceCatalog, 'source catalog') });
    }
    const at = new Date().toISOString();
    const update: MigrationUpdate = {
      mappingPlan: applied.plan,
      approvedKeys: applied.approvedKeys,
      config: { ...state.config, strategy: applied.strategy },
      feedback: applied.feedback,
      pendingAction: null,
      decisionOutcome: applied.outcome,
      amaniReply: applied.reply,
      stage: 'approve',
    };
    if (applied.outcome === 'abort') {
      update.approval = { decision: 'reject', by: action.by, ...(action.action === 'abort' && action.reason ? { reason: action.reason } : {}), at };
      update.status = 'rejected';
    } else if (applied.outcome === 'applied' && (action.action === 'approve' || action.action === 'modify')) {
      const names = new Set((state.approval?.decision === 'approve' ? state.approval.by.split(', ') : []).concat(action.by));
      update.approval = { decision: 'approve', by: [...names].join(', '), at };
    } else if (applied.outcome === 'replan') {
      update.approval = null;
    }
    return update;
  };

  // The source as it will look after transformation, before anything is written: verification compares with this.
  const capture = async (state: MigrationStateT): Promise<MigrationUpdate> => {
    if (!deps.captures) return { capturedAt: null };
    await stage(state, 'capture');
    const { source, target } = await deps.connections(state);
    const store = deps.captures;
    const at = new Date().toISOString();
    await captureSource(
      {
        source,
        target,
        batchSize: state.config.strategy.batch_size,
        concurrency: state.config.strategy.concurrency,
        directCopy: state.config.strategy.direct_copy,
        // Spilled where the store keeps it, so that storing a table's detail is a rename of its encrypted spill file.
        spillDir: store.dir,
        onProgress: (p) => deps.onProgress?.(state.runId, p),
        // Stored table by table: the summary sealed, the detail (a key and a hash per row) kept as its encrypted spill file.
        onTable: async (t) => {
          try {
            await store.saveTable(state.runId, at, t);
          } finally {
            t.detail.release();
          }
        },
      },
      need(state.mappingPlan, 'plan'),
      need(state.sourceCatalog, 'source catalog'),
    );
    if (state.config.queries?.length) await store.saveQueries(state.runId, await captureQueries(source, state.config.queries));
    return { capturedAt: at, stage: 'capture' };
  };

  const execute = async (state: MigrationStateT): Promise<MigrationUpdate> => {
    await stage(state, 'execute');
    const { source, target } = await deps.connections(state);
    const outcomes = await executePlan(
      {
        runId: state.runId,
        source,
        target,
        errors: deps.errors,
        ...executionStrategy(state.config.strategy),
        onProgress: (p) => deps.onProgress?.(state.runId, p),
        onRetry: (n) => deps.onRetry?.(state.runId, n),
      },
      need(state.mappingPlan, 'plan'),
      need(state.sourceCatalog, 'source catalog'),
    );
    return { outcomes, stage: 'execute' };
  };

  const verify = async (state: MigrationStateT): Promise<MigrationUpdate> => {
    await stage(state, 'verify');
    const { target } = await deps.connections(state);
    const report = await deps.verifier.verify(target, {
      plan: need(state.mappingPlan, 'plan'),
      plannedTarget: need(state.plannedTarget, 'planned target'),
      outcomes: state.outcomes,
      sourceCatalog: state.sourceCatalog,
      ...(deps.captures ? await captureInputs(deps.captures, (await deps.queued?.(state.runId)) ?? { queued: [], retried: [] }, state.runId, state.config, deps.waivers) : {}),
    });
    await deps.captures?.saveValidation(state.runId, report);
    return { verification: report, stage: 'verify', status: report.passed ? 'running' : 'failed' };
  };

  const certify = async (state: MigrationStateT): Promise<MigrationUpdate> => {
    await stage(state, 'certify');
    const { source, target } = await deps.connections(state);
    const captured = deps.captures ? await loadCapture(deps.captures, state.runId) : null;
    const issued = await issueCertificate({
      runId: state.runId,
      home: deps.home,
      path: deps.certificatePath(state.runId),
      source: { dialect: source.dialect, database: source.database },
      target,
      plan: need(state.mappingPlan, 'plan'),
      outcomes: state.outcomes,
      capture: captured,
      rules: state.config.rules?.length ?? 0,
      queries: state.config.queries?.length ?? 0,
      approval: need(state.approval, 'approval'),
      verification: need(state.verification, 'verification'),
    });
    // Checkpoints have served their purpose once the result is certified.
    await deleteRunCheckpoints(target, state.runId);
    return { certificatePath: issued.path, certifiedFrom: issued.hashedFrom, stage: 'done', status: 'completed' };
  };

  return new StateGraph(MigrationState)
    .addNode(NODE.analyze, analyze)
    .addNode(NODE.plan, plan)
    .addNode(NODE.approve, approve)
    .addNode(NODE.apply_decision, applyDecision)
    .addNode(NODE.capture, capture)
    .addNode(NODE.execute, execute)
    .addNode(NODE.verify, verify)
    .addNode(NODE.certify, certify)
    .addEdge(START, NODE.analyze)
    .addEdge(NODE.analyze, NODE.plan)
    .addEdge(NODE.plan, NODE.approve)
    .addConditionalEdges(NODE.approve, routeAfterApproval, [NODE.apply_decision, NODE.capture])
    .addConditionalEdges(NODE.apply_decision, routeAfterDecision, [NODE.approve, NODE.plan, END])
    .addEdge(NODE.capture, NODE.execute)
    .addEdge(NODE.execute, NODE.verify)
    .addConditionalEdges(NODE.verify, routeAfterVerification, [NODE.certify, END])
    .addEdge(NODE.certify, END)
    .compile({ checkpointer: deps.checkpointer });
}

/** A recorded action goes to `apply_decision`; with nothing left to approve the source is captured and execution starts. */
export function routeAfterApproval(state: MigrationStateT): typeof NODE.apply_decision | typeof NODE.capture {
  return state.pendingAction ? NODE.apply_decision : NODE.capture;
}

/** Back to the mapper after a rejection, to the end after an abort, else back to `approve` (which asks again if needed). */
export function routeAfterDecision(state: MigrationStateT): typeof NODE.approve | typeof NODE.plan | typeof END {
  if (state.decisionOutcome === 'replan') return NODE.plan;
  if (state.decisionOutcome === 'abort') return END;
  return NODE.approve;
}

export function routeAfterVerification(state: MigrationStateT): typeof NODE.certify | typeof END {
  return state.verification?.passed ? NODE.certify : END;
}

export type MigrationGraph = ReturnType<typeof createMigrationGraph>;
