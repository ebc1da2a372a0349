// The migration state, declared once: everything a run needs to survive a restart, and nothing secret.
import { Annotation } from '@langchain/langgraph';
import type { Catalog } from '../core/catalog.js';
import type { SenseiConfig } from '../core/config.js';
import type { VerificationReport } from '../core/findings.js';
import type { Plan } from '../core/plan.js';
import type { ApprovalDecision, RunStatus, Stage, TableOutcome } from '../core/run.js';
import type { StakeholderAction } from '../agents/amani.js';
import type { MapperFeedback } from '../agents/mapper.js';
import type { IssuedCertificate } from '../tools/certification/issue-certificate.js';

export const MigrationState = Annotation.Root({
  runId: Annotation<string>(),
  /** The configuration with credential references only (inline secrets are refused when it is loaded). */
  config: Annotation<SenseiConfig>(),
  /** Directory relative paths of the configuration resolve against. */
  baseDir: Annotation<string>(),
  /** `--yes`: approve without asking even when mappings are below the threshold. */
  preApproved: Annotation<boolean>(),
  stage: Annotation<Stage>(),
  status: Annotation<RunStatus>(),
  sourceCatalog: Annotation<Catalog | null>(),
  plannedTarget: Annotation<Catalog | null>(),
  mappingPlan: Annotation<Plan | null>(),
  approval: Annotation<ApprovalDecision | null>(),
  /** When the source was captured for verification (the capture itself lives in the store). */
  capturedAt: Annotation<string | null>(),
  outcomes: Annotation<TableOutcome[]>(),
  verification: Annotation<VerificationReport | null>(),
  certificatePath: Annotation<string | null>(),
  /** Per table, where the certificate's row hashes came from (`IssuedCertificate.hashedFrom`). */
  certifiedFrom: Annotation<IssuedCertificate['hashedFrom'] | null>({ reducer: (_old, next) => next, default: () => null }),
  /** Keys (`mappingKey`) of the mappings a stakeholder approved or corrected. */
  approvedKeys: Annotation<string[]>({ reducer: (_old, next) => next, default: () => [] }),
  /** The stakeholder's action recorded by `approve`, acted on by `apply_decision`. */
  pendingAction: Annotation<StakeholderAction | null>({ reducer: (_old, next) => next, default: () => null }),
  /** What `apply_decision` did with it: routes the graph and is what AMANI replies. */
  decisionOutcome: Annotation<'applied' | 'refused' | 'replan' | 'abort' | null>({ reducer: (_old, next) => next, default: () => null }),
  amaniReply: Annotation<string | null>({ reducer: (_old, next) => next, default: () => null }),
  /** Every rejection so far, for the mapper (it must take them into account on every re-plan). */
  feedback: Annotation<MapperFeedback[]>({ reducer: (old, next) => [...old, ...next], default: () => [] }),
});
export type MigrationStateT = typeof MigrationState.State;
export type MigrationUpdate = typeof MigrationState.Update;
