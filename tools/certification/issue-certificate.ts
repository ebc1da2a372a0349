// Assemble, sign and write the Behavioral Equivalence Certificate of a finished run.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Catalog } from '../../core/catalog.js';
import type { Certificate, CertificatePayload } from '../../core/certificate.js';
import type { VerificationReport } from '../../core/findings.js';
import { allMappings, type Plan } from '../../core/plan.js';
import type { ApprovalDecision, TableOutcome } from '../../core/run.js';
import type { TargetConnector } from '../../connectors/connector.js';
import { hashTargetTable } from '../verification/table-hash.js';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import { signCertificate, serializeCertificate } from './certificate-signer.js';
import { buildHashChain } from './hash-chain.js';
import { loadSigningKey } from './signing-key.js';

export interface IssueCertificateInput {
  runId: string;
  home: string;
  /** Where to write the file. */
  path: string;
  source: { dialect: string; database: string };
  target: TargetConnector;
  plan: Plan;
  plannedTarget: Catalog;
  outcomes: TableOutcome[];
  approval: ApprovalDecision;
  verification: VerificationReport;
}

export interface IssuedCertificate {
  certificate: Certificate;
  text: string;
  path: string;
}

/**
 * The chain links the source snapshot (per-table source hashes and counts), the approved plan, the execution
 * accounting and the target state (per-table target hashes) in that order.
 */
export async function issueCertificate(input: IssueCertificateInput): Promise<IssuedCertificate> {
  const actual = await input.target.catalog();
  const tables: CertificatePayload['tables'] = [];
  for (const o of input.outcomes) {
    const def = actual.tables.find((t) => t.name === o.target);
    if (!def) throw new Error(`cannot certify: target table ${o.target} is gone`);
    const { sha256 } = await hashTargetTable(input.target, def);
    tables.push({
      source: o.source,
      target: o.target,
      rows_read: o.rows_read,
      rows_written: o.rows_written,
      rows_errored: o.rows_errored,
      source_sha256: o.source_hash,
      target_sha256: sha256,
    });
  }
  const sum = (k: 'rows_read' | 'rows_written' | 'rows_errored'): number => tables.reduce((a, t) => a + t[k], 0);
  const chain = buildHashChain({
    source_snapshot: sha256Hex(canonicalJson(tables.map((t) => ({ table: t.source, rows: t.rows_read, sha256: t.source_sha256 })))),
    plan: sha256Hex(canonicalJson(input.plan)),
    execution: sha256Hex(
      canonicalJson(tables.map((t) => ({ table: t.source, read: t.rows_read, written: t.rows_written, errored: t.rows_errored }))),
    ),
    target_state: sha256Hex(canonicalJson(tables.map((t) => ({ table: t.target, rows: t.rows_written, sha256: t.target_sha256 })))),
  });
  const payload: CertificatePayload = {
    format: 'sensei-certificate/1',
    run_id: input.runId,
    issued_at: new Date().toISOString(),
    source: input.source,
    target: { dialect: input.target.dialect, database: input.target.database },
    tables,
    coverage: {
      tables: tables.length,
      columns_mapped: allMappings(input.plan).length,
      rows_read: sum('rows_read'),
      rows_written: sum('rows_written'),
      rows_errored: sum('rows_errored'),
    },
    approval: { by: input.approval.by, at: input.approval.at },
    verification: { passed: input.verification.passed, checks: input.verification.checks },
    exceptions: tables
      .filter((t) => t.rows_errored > 0)
      .map((t) => ({
        table: t.source,
        count: t.rows_errored,
        reason: `rows held in the encrypted error queue, not written (see: sensei errors list ${input.runId})`,
      })),
    chain,
  };
  const certificate = signCertificate(payload, loadSigningKey(input.home));
  const text = serializeCertificate(certificate);
  await mkdir(dirname(input.path), { recursive: true });
  await writeFile(input.path, text, { mode: 0o644 });
  return { certificate, text, path: input.path };
}
