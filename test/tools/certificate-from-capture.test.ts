// The certificate of a run whose target verification found equal to the capture in every bucket takes its row hashes
// and target roots from the capture instead of hashing the target again, on a real PostgreSQL source and target: the
// row-hash file and the roots are exactly those of a certificate that hashed the target, for text keys with quotes,
// backslashes, tabs and non-ASCII characters, many buckets and a table without a key holding duplicate rows. A
// capture detail that no longer reproduces its digests, a stale report and a changed target each fall back to the
// target, which the certificate says.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMapper } from '../../agents/mapper.js';
import type { Catalog } from '../../core/catalog.js';
import type { VerificationReport } from '../../core/findings.js';
import type { Plan } from '../../core/plan.js';
import type { TableOutcome } from '../../core/run.js';
import type { SourceConnector, TargetConnector } from '../../connectors/connector.js';
import { openSource } from '../../connectors/open-source.js';
import { openTarget } from '../../connectors/open-target.js';
import { checkTargetAgainstCertificate, readRowHashFile } from '../../tools/certification/certificate-target-check.js';
import { issueCertificate, type IssuedCertificate } from '../../tools/certification/issue-certificate.js';
import { executePlan } from '../../tools/execution/execute-plan.js';
import { captureSource, type SourceCapture } from '../../tools/verification/capture-source.js';
import { detailRowKey, sortedBuckets } from '../../tools/verification/capture-detail.js';
import { inMemoryDetail, inMemoryPartitions, type DetailPartitionReader } from '../../tools/verification/compare-capture.js';
import { verifyMigration } from '../../tools/verification/verify-migration.js';
import { createPgDatabase, pgExec, tempDir, type TempDatabase } from '../fixtures/databases.js';

const SOURCE_SQL = `
CREATE TABLE people (code text PRIMARY KEY, name text NOT NULL, born date);
CREATE TABLE visits (id integer PRIMARY KEY, person text NOT NULL REFERENCES people (code), at timestamptz, amount numeric(10,2));
CREATE TABLE notes (body text, n integer);
INSERT INTO people SELECT 'p' || g || (ARRAY[E'\\\\', '"', E'\\t', 'é', '☃', ' ', ''])[1 + g % 7], 'Name ' || g, date '1950-01-01' + g FROM generate_series(1, 9000) g;
INSERT INTO visits SELECT g, 'p' || (1 + g % 9000) || (ARRAY[E'\\\\', '"', E'\\t', 'é', '☃', ' ', ''])[1 + (1 + g % 9000) % 7],
  timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute', g * 0.25 FROM generate_series(1, 3000) g;
INSERT INTO notes SELECT 'note ' || (g % 40), g % 3 FROM generate_series(1, 700) g;
`;

describe('a certificate whose row hashes come from the verified capture', () => {
  const dir = tempDir('sensei-cert-capture-');
  let src: TempDatabase;
  let tgt: TempDatabase;
  let source: SourceConnector;
  let target: TargetConnector;
  let catalog: Catalog;
  let plan: Plan;
  let plannedTarget: Catalog;
  let capture: SourceCapture;
  let outcomes: TableOutcome[];
  let report: VerificationReport;
  /** The certificate that hashed every table of the target, and its row-hash file's text. */
  let hashed: IssuedCertificate;
  let hashedRows: string;

  const certify = (name: string, verification: VerificationReport, readPartition: DetailPartitionReader | undefined): Promise<IssuedCertificate> =>
    issueCertificate({
      runId: 'run_cc',
      home: dir.path,
      path: join(dir.path, `${name}.json`),
      source: { dialect: source.dialect, database: source.database },
      target,
      plan,
      outcomes,
      approval: { decision: 'approve', by: 'test', at: '2026-12-08T00:00:00.000Z' },
      verification,
      capture: { capturedAt: capture.capturedAt, tables: capture.tables, ...(readPartition ? { readPartition } : {}) },
    });
  const rowsText = (issued: IssuedCertificate): string => gunzipSync(readFileSync(issued.rowHashesPath!)).toString('utf8');
  const roots = (issued: IssuedCertificate) => issued.certificate.payload.tables.map((t) => [t.target, t.target_root]);

  beforeAll(async () => {
    src = await createPgDatabase('sensei_ccsrc');
    tgt = await createPgDatabase('sensei_cctgt');
    await pgExec(src.url, SOURCE_SQL);
    source = await openSource(src.url);
    target = await openTarget(tgt.url);
    catalog = await source.catalog({ withCounts: true });
    ({ plan, plannedTarget } = await createMapper().plan({ source: catalog, target, thresholds: { autoApproveAbove: 0.95, reviewAbove: 0.8 } }));
    capture = await captureSource({ source, target, batchSize: 1000 }, plan, catalog);
    outcomes = await executePlan({ runId: 'run_cc', source, target, errors: { add: async () => undefined }, batchSize: 1000 }, plan, catalog);
    report = await verifyMigration(target, { plan, plannedTarget, outcomes, capture: { tables: capture.tables, loadDetail: inMemoryDetail(capture.tables) } });
    hashed = await certify('hashed', report, undefined);
    hashedRows = rowsText(hashed);
  }, 120_000);

  afterAll(async () => {
    for (const t of capture?.tables ?? []) t.detail.release();
    await source?.close();
    await target?.close();
    await src?.drop();
    await tgt?.drop();
    dir.remove();
  });

  it('verification lists every table as equal to the capture, with many buckets for people', () => {
    expect(report.passed).toBe(true);
    expect(report.matched).toEqual(capture.tables.map((t) => ({ table: t.target, buckets: t.buckets, root: t.root, rows: t.rowsExpected })));
    expect(capture.tables.map((t) => [t.target, t.rowsExpected, t.buckets])).toEqual([
      ['notes', 700, 2],
      ['people', 9000, 32],
      ['visits', 3000, 8],
    ]);
    expect(hashed.hashedFrom.map((h) => h.from)).toEqual(['target', 'target', 'target']);
  });

  it('writes the same row-hash file and roots as hashing the target, and the target checks against it', async () => {
    const fromCapture = await certify('captured', report, inMemoryPartitions(capture.tables));
    expect(fromCapture.hashedFrom).toEqual(capture.tables.map((t) => ({ table: t.target, from: 'capture' })));
    expect(rowsText(fromCapture)).toBe(hashedRows);
    expect(roots(fromCapture)).toEqual(roots(hashed));
    expect(fromCapture.certificate.payload.tables.map((t) => t.target_root)).toEqual(capture.tables.map((t) => t.root));
    expect(fromCapture.certificate.payload.row_hashes!.sha256).toBe(hashed.certificate.payload.row_hashes!.sha256);
    const check = await checkTargetAgainstCertificate(fromCapture.certificate, target, await readRowHashFile(fromCapture.path, fromCapture.certificate));
    expect([check.matches, check.findings]).toEqual([true, []]);
  });

  it('takes the rest of a table from the target from the first bucket whose captured rows no longer give its digest', async () => {
    const people = capture.tables.find((t) => t.target === 'people')!;
    const broken = [...people.digests].sort((a, b) => a.bucket - b.bucket)[20]!.bucket;
    const inMemory = inMemoryPartitions(capture.tables);
    // The detail of one bucket of people loses a row after verification (a damaged or replaced detail).
    const lossy: DetailPartitionReader = async (table, p) => {
      const plains = await inMemory(table, p);
      if (table.target !== 'people' || p !== broken >> 4) return plains;
      const { bytes, buckets } = sortedBuckets(plains!);
      const row = buckets.find((b) => b.bucket === broken)!.rows[0]!;
      return [bytes.subarray(0, row), bytes.subarray(detailRowKey(bytes, row)[1])];
    };
    const issued = await certify('lossy', report, lossy);
    expect(issued.hashedFrom).toEqual([
      { table: 'notes', from: 'capture' },
      { table: 'people', from: 'capture, then target', fromBucket: broken },
      { table: 'visits', from: 'capture' },
    ]);
    expect(rowsText(issued)).toBe(hashedRows);
    expect(roots(issued)).toEqual(roots(hashed));
  });

  it('hashes the target for a table whose capture keeps no detail it can read a partition at a time (stored before detail files)', async () => {
    const inMemory = inMemoryPartitions(capture.tables);
    const issued = await certify('old', report, async (table, p) => (table.target === 'visits' ? null : inMemory(table, p)));
    expect(issued.hashedFrom.map((h) => [h.table, h.from])).toEqual([
      ['notes', 'capture'],
      ['people', 'capture'],
      ['visits', 'target'],
    ]);
    expect(rowsText(issued)).toBe(hashedRows);
  });

  it('hashes the target for a table the report does not list, or lists with another root', async () => {
    const stale: VerificationReport = { ...report, matched: report.matched!.map((m) => (m.table === 'visits' ? { ...m, root: '0'.repeat(64) } : m)).filter((m) => m.table !== 'notes') };
    const issued = await certify('stale', stale, inMemoryPartitions(capture.tables));
    expect(issued.hashedFrom.map((h) => [h.table, h.from])).toEqual([
      ['notes', 'target'],
      ['people', 'capture'],
      ['visits', 'target'],
    ]);
    expect(rowsText(issued)).toBe(hashedRows);
  });

  it('certifies a target changed after the capture from the target itself: its root is not the captured one', async () => {
    await pgExec(tgt.url, `UPDATE visits SET amount = amount + 1 WHERE id = 17`);
    try {
      const changed = await verifyMigration(target, { plan, plannedTarget, outcomes, capture: { tables: capture.tables, loadDetail: inMemoryDetail(capture.tables) } });
      expect(changed.passed).toBe(false);
      expect(changed.matched!.map((m) => m.table)).toEqual(['notes', 'people']);
      const issued = await certify('changed', changed, inMemoryPartitions(capture.tables));
      expect(issued.hashedFrom.map((h) => h.from)).toEqual(['capture', 'capture', 'target']);
      const visits = issued.certificate.payload.tables.find((t) => t.target === 'visits')!;
      expect(visits.target_root).not.toBe(visits.captured_root);
      const check = await checkTargetAgainstCertificate(issued.certificate, target, await readRowHashFile(issued.path, issued.certificate));
      expect([check.matches, check.findings]).toEqual([true, []]);
    } finally {
      await pgExec(tgt.url, `UPDATE visits SET amount = amount - 1 WHERE id = 17`);
    }
  });
});
