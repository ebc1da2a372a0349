// Assemble, sign and write the Behavioral Equivalence Certificate of a finished run, its HTML rendering and the
// companion row-hash file.
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Certificate, CertificatePayload } from '../../core/certificate.js';
import type { VerificationReport } from '../../core/findings.js';
import { allMappings, type Plan } from '../../core/plan.js';
import type { ApprovalDecision, TableOutcome } from '../../core/run.js';
import type { TargetConnector } from '../../connectors/connector.js';
import { settleAll, slots } from '../execution/slots.js';
import { shapeOf } from '../verification/capture-source.js';
import { capturedRows, digestTargetBuckets, digestTargetRows, type CapturedTable, type DetailPartitionReader } from '../verification/compare-capture.js';
import { bucketCountFor } from '../verification/row-digest.js';
import { renderCertificateHtml } from './certificate-html.js';
import { signCertificate, serializeCertificate } from './certificate-signer.js';
import { buildHashChain, chainInputsOf } from './hash-chain.js';
import { openRowHashFile } from './row-hash-file.js';
import { loadSigningKey } from './signing-key.js';

export interface IssueCertificateInput {
  runId: string;
  home: string;
  /** Where to write the file (`.json`); the HTML page and the row-hash file go next to it. */
  path: string;
  source: { dialect: string; database: string };
  target: TargetConnector;
  plan: Plan;
  outcomes: TableOutcome[];
  approval: ApprovalDecision;
  verification: VerificationReport;
  /**
   * The source capture verification compared with; null when there was none. With `readPartition`, a table
   * verification found equal to the capture in every bucket (`verification.matched`) is not hashed again: its target
   * root is the one verification found and its row hashes come from the capture's detail (`capturedRows`).
   */
  capture: { capturedAt: string; tables: CapturedTable[]; readPartition?: DetailPartitionReader } | null;
  /** Rules and queries checked, for coverage. Default 0. */
  rules?: number;
  queries?: number;
  /** Write the row-hash file (keys and row hashes of every target row, gzip JSON). Default true. */
  rowHashes?: boolean;
}

export interface IssuedCertificate {
  certificate: Certificate;
  text: string;
  path: string;
  htmlPath: string;
  rowHashesPath: string | null;
  /**
   * Per table, where its target root and row hashes came from: the target, hashed now; the capture, which verification
   * found equal to the target; or the capture up to bucket `fromBucket` and the target from there (a detail that no
   * longer reproduced its digests).
   */
  hashedFrom: Array<{ table: string; from: 'target' | 'capture' | 'capture, then target'; fromBucket?: number }>;
}

/** The file names next to a certificate `x.json`: `x.html` and `x.rows.json.gz`. */
export function companionPaths(path: string): { html: string; rows: string } {
  const base = path.replace(/\.json$/, '');
  return { html: `${base}.html`, rows: `${base}.rows.json.gz` };
}

/**
 * Every table is hashed in the target database with the capture's shape and bucket count, except a table verification
 * has just found equal to the capture in every bucket, whose rows and root are the capture's (see `capture`); the
 * chain links the captured source, the plan, the execution accounting and the target roots (see `chainInputsOf`).
 */
export async function issueCertificate(input: IssueCertificateInput): Promise<IssuedCertificate> {
  const tables: CertificatePayload['tables'] = [];
  const paths = companionPaths(input.path);
  await mkdir(dirname(input.path), { recursive: true });
  const rowFile = (input.rowHashes ?? true) ? await openRowHashFile(paths.rows, input.runId) : null;
  let rowHashes: CertificatePayload['row_hashes'] = null;
  const hashedFrom: IssuedCertificate['hashedFrom'] = [];
  try {
    // The target's tables are hashed two at a time where it takes concurrent sessions (each its own cursor and its own
    // part of the row-hash file, which lists them in outcome order).
    const slot = slots(input.target.capabilities.supportsConcurrentSessions ? 2 : 1);
    const work = input.outcomes.map((o) => {
      const mapping = input.plan.tables.find((t) => t.target === o.target);
      if (!mapping) throw new Error(`cannot certify: ${o.target} is not in the plan`);
      const captured = input.capture?.tables.find((t) => t.target === o.target) ?? null;
      const shape = captured?.shape ?? shapeOf(mapping);
      const buckets = captured?.buckets ?? bucketCountFor(o.rows_written);
      const readPartition = input.capture?.readPartition;
      const matched = captured && readPartition ? input.verification.matched?.some((m) => m.table === o.target && m.buckets === captured.buckets && m.root === captured.root) : false;
      return { o, captured, shape, buckets, fromCapture: matched ? { captured: captured!, readPartition: readPartition! } : null };
    });
    type Hashed = { root: string; from: IssuedCertificate['hashedFrom'][number] };
    const digests = work.map(({ o, shape, buckets, fromCapture }) =>
      slot(async (): Promise<Hashed> => {
        const table = o.target;
        if (fromCapture && rowFile) {
          const got = await rowFile.addTable(table, buckets, (onRows) => capturedRows(input.target, fromCapture.captured, fromCapture.readPartition, onRows));
          const from: Hashed['from'] =
            got.fromTarget === null ? { table, from: 'capture' } : got.fromCapture > 0 ? { table, from: 'capture, then target', fromBucket: got.fromTarget } : { table, from: 'target' };
          return { root: got.root, from };
        }
        // Verified equal to the capture, bucket for bucket: the root both share.
        if (fromCapture) return { root: fromCapture.captured.root, from: { table, from: 'capture' } };
        // With the row-hash file, one pass yields both the rows and the digests.
        const got = await (rowFile
          ? rowFile.addTable(table, buckets, (onRows) => digestTargetRows(input.target, table, shape, buckets, onRows))
          : digestTargetBuckets(input.target, table, shape, buckets));
        return { root: got.root, from: { table, from: 'target' } };
      }),
    );
    await settleAll(digests);
    for (const [i, { o, captured, shape, buckets }] of work.entries()) {
      const digest = await digests[i]!;
      hashedFrom.push(digest.from);
      tables.push({
        source: o.source,
        target: o.target,
        rows_read: o.rows_read,
        rows_written: o.rows_written,
        rows_errored: o.rows_errored,
        source_sha256: o.source_hash,
        columns: shape.columns,
        key: shape.key,
        buckets,
        bucket_hash: shape.bucketHash ?? 'md5',
        rows_captured: captured?.rowsExpected ?? null,
        captured_root: captured?.root ?? null,
        target_root: digest.root,
      });
    }
    if (rowFile) rowHashes = { file: basename(paths.rows), sha256: (await rowFile.finish()).sha256 };
  } catch (e) {
    await rowFile?.abort();
    throw e;
  }
  const sum = (k: 'rows_read' | 'rows_written' | 'rows_errored'): number => tables.reduce((a, t) => a + t[k], 0);
  const payload: CertificatePayload = {
    format: 'sensei-certificate/3',
    run_id: input.runId,
    issued_at: new Date().toISOString(),
    captured_at: input.capture?.capturedAt ?? null,
    source: input.source,
    target: { dialect: input.target.dialect, database: input.target.database },
    plan: input.plan,
    tables,
    coverage: {
      tables: tables.length,
      columns_mapped: allMappings(input.plan).length,
      rows_read: sum('rows_read'),
      rows_written: sum('rows_written'),
      rows_errored: sum('rows_errored'),
      rows_compared: tables.reduce((a, t) => a + (t.rows_captured ?? 0), 0),
      rules: input.rules ?? 0,
      queries: input.queries ?? 0,
    },
    approval: { by: input.approval.by, at: input.approval.at },
    verification: { passed: input.verification.passed, checks: input.verification.checks },
    exceptions: (tables as CertificatePayload['tables'])
      .filter((t) => t.rows_errored > 0)
      .map((t): CertificatePayload['exceptions'][number] => ({
        table: t.source,
        count: t.rows_errored,
        reason: `rows held in the encrypted error queue, not written (see: sensei errors list ${input.runId})`,
        approved_by: null,
      }))
      .concat(
        (input.verification.waived ?? []).map(({ finding, waiver }) => ({
          table: finding.path[0] ?? '',
          count: 1,
          reason: `waived ${finding.code}: ${waiver.reason}`,
          approved_by: waiver.approved_by,
          waiver: { id: waiver.id, code: finding.code, path: finding.path, approved_at: waiver.approved_at },
        })),
      ),
    row_hashes: rowHashes,
    chain: buildHashChain(chainInputsOf({ tables, plan: input.plan })),
  };
  const certificate = signCertificate(payload, loadSigningKey(input.home));
  const text = serializeCertificate(certificate);
  await writeFile(input.path, text, { mode: 0o644 });
  await writeFile(paths.html, renderCertificateHtml(certificate), { mode: 0o644 });
  return { certificate, text, path: input.path, htmlPath: paths.html, rowHashesPath: rowFile ? paths.rows : null, hashedFrom };
}
