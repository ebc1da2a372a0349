// The verifier: checks the target against the approved plan and the run's own accounting.
import type { VerificationReport } from '../core/findings.js';
import type { TargetConnector } from '../connectors/connector.js';
import { verifyMigration, type VerifyInput } from '../tools/verification/verify-migration.js';

export interface Verifier {
  verify(target: TargetConnector, input: VerifyInput): Promise<VerificationReport>;
}

export function createVerifier(): Verifier {
  return { verify: (target, input) => verifyMigration(target, input) };
}
