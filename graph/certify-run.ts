// Issuing a verified run's certificate after the graph has ended (`sensei verify --certify`, `sensei errors retry`):
// the same inputs as the graph's certify node, and the certificate kept in the store.
import { join } from 'node:path';
import type { SenseiConfig } from '../core/config.js';
import type { VerificationReport } from '../core/findings.js';
import type { Plan } from '../core/plan.js';
import type { ApprovalDecision, TableOutcome } from '../core/run.js';
import type { TargetConnector } from '../connectors/connector.js';
import { issueCertificate } from '../tools/certification/issue-certificate.js';
import type { SenseiStore } from '../tools/store/sensei-store.js';
import { loadCapture, type CaptureStore } from '../tools/verification/capture-store.js';

/** Where a run's certificate is written in a Sensei home. */
export const certificatePathFor = (home: string, runId: string): string => join(home, 'certificates', `${runId}.json`);

export interface CertifyRunInput {
  store: Pick<SenseiStore, 'saveCertificate'>;
  home: string;
  runId: string;
  source: { dialect: string; database: string };
  target: TargetConnector;
  plan: Plan;
  outcomes: TableOutcome[];
  config: Pick<SenseiConfig, 'rules' | 'queries'>;
  approval: ApprovalDecision;
  verification: VerificationReport;
  /** The run's captures (the certificate's source snapshot); none when the run had no capture. */
  captures?: CaptureStore | null;
}

/** Issues the certificate at `certificatePathFor(home, runId)`, saves it in the store and returns its path. */
export async function certifyRun(input: CertifyRunInput): Promise<string> {
  const issued = await issueCertificate({
    runId: input.runId,
    home: input.home,
    path: certificatePathFor(input.home, input.runId),
    source: input.source,
    target: input.target,
    plan: input.plan,
    outcomes: input.outcomes,
    capture: input.captures ? await loadCapture(input.captures, input.runId) : null,
    rules: input.config.rules?.length ?? 0,
    queries: input.config.queries?.length ?? 0,
    approval: input.approval,
    verification: input.verification,
  });
  await input.store.saveCertificate(input.runId, issued.text, issued.path);
  return issued.path;
}
