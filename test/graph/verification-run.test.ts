// A whole run through the graph with the embedded store: capture, verification against the capture and business
// rules, certificate format 2 with its HTML page and row-hash file, re-hashing the target against the certificate,
// verifying again on demand (the row-level detail read back from the run's kept detail files), and the retention purge.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SenseiConfig } from '../../core/config.js';
import type { Certificate } from '../../core/certificate.js';
import { reverifyRun } from '../../graph/reverify.js';
import { createRuntime, type RunResult, type SenseiRuntime } from '../../graph/runtime.js';
import { openTarget } from '../../connectors/open-target.js';
import type { TargetConnector } from '../../connectors/connector.js';
import { checkTargetAgainstCertificate, readRowHashFile } from '../../tools/certification/certificate-target-check.js';
import { verifyCertificateText } from '../../tools/certification/certificate-verifier.js';
import { companionPaths } from '../../tools/certification/issue-certificate.js';
import { checkBusinessRules } from '../../tools/verification/business-rules.js';
import { loadSecretBox } from '../../tools/store/secret-box.js';
import { createCaptureStore } from '../../tools/verification/capture-store.js';
import { createPgDatabase, pgExec, tempDir, type TempDatabase } from '../fixtures/databases.js';
import { homeWithStore } from '../fixtures/store-template.js';

const SOURCE_SQL = `
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, feeling mood, balance numeric(10,2));
CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer NOT NULL REFERENCES customers (id), total numeric(12,2));
INSERT INTO customers SELECT g, 'Secret name ' || g, (ARRAY['happy','sad'])[1 + g % 2]::mood, g * 2.5 FROM generate_series(1, 400) g;
INSERT INTO orders SELECT g, 1 + g % 400, g FROM generate_series(1, 900) g;
`;

describe('a verified and certified run', () => {
  const dir = tempDir('sensei-v8-run-');
  let src: TempDatabase;
  let tgt: TempDatabase;
  let rt: SenseiRuntime;
  let result: RunResult;
  let target: TargetConnector;
  /** The run's kept capture detail files. */
  const detailFiles = (): string[] => {
    const runDir = join(dir.path, 'captures', encodeURIComponent(result.runId));
    return existsSync(runDir) ? readdirSync(runDir).map((f) => join(runDir, f)) : [];
  };

  beforeAll(async () => {
    src = await createPgDatabase('sensei_v8rsrc');
    tgt = await createPgDatabase('sensei_v8rtgt');
    await pgExec(src.url, SOURCE_SQL);
    rt = await createRuntime({ home: homeWithStore(dir.path) });
    const config = SenseiConfig.parse({
      source: { url: src.url },
      target: { url: tgt.url },
      strategy: { batch_size: 250 },
      rules: [
        { name: 'positive totals', table: 'orders', predicate: 'total > 0' },
        { name: 'balance under limit', table: 'customers', predicate: 't.balance < 950', threshold: 0.9 },
      ],
    });
    result = await rt.start(config, dir.path, { preApproved: true });
    target = await openTarget(tgt.url);
  }, 180_000);

  afterAll(async () => {
    await target?.close();
    await rt?.close();
    await src?.drop();
    await tgt?.drop();
    dir.remove();
  });

  it('captures before executing, verifies content, statistics and rules, and certifies', () => {
    expect(result.error).toBeNull();
    expect(result.status).toBe('completed');
    const checks = result.verification!.checks.map((c) => [c.perspective, c.check, c.passed]);
    expect(checks).toEqual(
      expect.arrayContaining([
        ['statistical', 'rows equal the source as captured (bucket hashes, bisected to keys)', true],
        ['statistical', 'column statistics equal the source as captured', true],
        ['semantic', 'business rules from the configuration', true],
      ]),
    );
    // Both tables equal to the capture in every bucket: the certificate took their row hashes from the kept capture
    // detail files, not from hashing the target again.
    expect(result.verification!.matched!.map((m) => m.table).sort()).toEqual(['customers', 'orders']);
    expect(result.certifiedFrom).toEqual(result.tables.map((t) => ({ table: t.target, from: 'capture' })));
  });

  it('writes a format 3 certificate that verifies, with its HTML page and a row-hash file', () => {
    const text = readFileSync(result.certificatePath!, 'utf8');
    const res = verifyCertificateText(text);
    expect(res.valid).toBe(true);
    const p = (res as { certificate: Certificate }).certificate.payload;
    expect(p.format).toBe('sensei-certificate/3');
    expect(p.tables.map((t) => [t.target, t.rows_captured, t.key, t.bucket_hash, t.captured_root === null])).toEqual([
      ['customers', 400, ['id'], 'hashtextextended', false],
      ['orders', 900, ['id'], 'hashtextextended', false],
    ]);
    expect(p.coverage).toMatchObject({ rows_compared: 1300, rules: 2, queries: 0 });
    const paths = companionPaths(result.certificatePath!);
    expect(readFileSync(paths.html, 'utf8')).toContain('Behavioral Equivalence Certificate');
    expect(existsSync(paths.rows)).toBe(true);
    expect(text).not.toContain('Secret name');
  });

  it('keeps the capture and the validation result sealed in the store', async () => {
    const raw = await rt.store.pool.query<{ b: Buffer }>(
      `SELECT summary AS b FROM sensei_captures UNION ALL SELECT detail FROM sensei_capture_detail UNION ALL SELECT report FROM sensei_validation_results`,
    );
    expect(raw.rows.length).toBeGreaterThan(2);
    for (const r of raw.rows) expect(r.b.includes('"id"') || r.b.includes('customers') || r.b.includes('Secret')).toBe(false);
    // The detail (keys and row hashes) is kept as one encrypted file per table under the home, not as store rows.
    expect((await rt.store.pool.query('SELECT 1 FROM sensei_capture_detail')).rows).toEqual([]);
    const files = detailFiles();
    expect(files).toHaveLength(2);
    for (const f of files) {
      expect(statSync(f).mode & 0o777).toBe(0o600);
      const bytes = readFileSync(f);
      expect(bytes.length).toBeGreaterThan(400 * 20);
      for (const plain of ['["123"]', '"id"', 'Secret']) expect(bytes.includes(plain)).toBe(false);
    }
    const stored = await createCaptureStore(rt.store.pool, loadSecretBox(dir.path), dir.path).listValidations(result.runId);
    expect(stored.map((v) => v.report.passed)).toEqual([true]);
  });

  it('re-hashes the target against the certificate and names the key of a changed cell', async () => {
    const cert = JSON.parse(readFileSync(result.certificatePath!, 'utf8')) as Certificate;
    const rows = await readRowHashFile(result.certificatePath!, cert);
    expect(await checkTargetAgainstCertificate(cert, target, rows)).toEqual({
      matches: true,
      tables: [
        { table: 'customers', matches: true },
        { table: 'orders', matches: true },
      ],
      findings: [],
      rowHashes: { format: 'sensei-row-hashes/2', bitsPerRow: 128 },
    });
    await pgExec(tgt.url, `UPDATE customers SET balance = balance + 0.01 WHERE id = 123`);
    const changed = await checkTargetAgainstCertificate(cert, target, rows);
    expect(changed.matches).toBe(false);
    expect(changed.tables).toEqual([
      { table: 'customers', matches: false },
      { table: 'orders', matches: true },
    ]);
    expect(changed.findings[0]).toMatchObject({ code: 'row_changed', path: ['customers', 'id=123'], key: { id: '123' } });
    // Without the row-hash file the table is still caught, only not the row.
    const blind = await checkTargetAgainstCertificate(cert, target, null);
    expect(blind.findings).toEqual([{ code: 'check_error', path: ['customers'], message: expect.stringContaining('customers differs from what was certified') }]);
  });

  it('verifies again on demand against the capture and stores the new result', async () => {
    const report = await reverifyRun(rt, dir.path, result.runId);
    expect(report.passed).toBe(false);
    const content = report.checks.find((c) => c.check.startsWith('rows equal the source'))!;
    expect(content.findings[0]).toMatchObject({ code: 'row_changed', key: { id: '123' } });
    const stored = await createCaptureStore(rt.store.pool, loadSecretBox(dir.path), dir.path).listValidations(result.runId);
    expect(stored.map((v) => v.report.passed)).toEqual([true, false]);
    await expect(reverifyRun(rt, dir.path, 'run_nope')).rejects.toThrow(/no run run_nope/);
  });

  it('reports failing and refused business rules as findings', async () => {
    const check = await checkBusinessRules(target, [
      { name: 'small balances', table: 'customers', predicate: 'balance < 100', threshold: 0.5 },
      { name: 'sleepy', table: 'customers', predicate: 'pg_sleep(1) IS NULL', threshold: 1 },
      { name: 'other table', table: 'customers', predicate: 'orders.total > 0', threshold: 1 },
      { name: 'nowhere', table: 'ghosts', predicate: 'true', threshold: 1 },
    ]);
    expect(check.passed).toBe(false);
    expect(check.findings.map((f) => [f.code, f.path[1]])).toEqual([
      ['rule_failed', 'small balances'],
      ['check_error', 'sleepy'],
      ['check_error', 'other table'],
      ['check_error', 'nowhere'],
    ]);
    expect(check.findings[0]).toMatchObject({ failing: 361, passRate: 39 / 400, threshold: 0.5 });
  });

  it('purges validation results and captures past retention', async () => {
    const store = createCaptureStore(rt.store.pool, loadSecretBox(dir.path), dir.path);
    expect(await store.purge(new Date(Date.now() - 86_400_000))).toEqual({ validationResults: 0, capturedTables: 0, captureBuckets: 0, captureFiles: 0 });
    expect(detailFiles()).toHaveLength(2);
    const purged = await store.purge(new Date(Date.now() + 60_000));
    // The detail files go with the captures (no bucket rows: they are stored before detail files only).
    expect(purged).toEqual({ validationResults: 2, capturedTables: 2, captureBuckets: 0, captureFiles: 2 });
    expect(await store.load(result.runId)).toBeNull();
    expect(readdirSync(join(dir.path, 'captures'))).toEqual([]);
  });
});
