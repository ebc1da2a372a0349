// A target checked against its certificate's row-hash file on a real PostgreSQL: several tables of the same shape and
// keys, many buckets, a table without a key and one dropped since; every missing, extra and changed row is named by
// table and key, and a damaged file is refused naming it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Certificate } from '../../core/certificate.js';
import { CertificateError } from '../../core/errors.js';
import type { TargetConnector, TargetSession } from '../../connectors/connector.js';
import { openTarget } from '../../connectors/open-target.js';
import { sha256Hex } from '../../tools/certification/canonical-json.js';
import { checkTargetAgainstCertificate, readRowHashFile } from '../../tools/certification/certificate-target-check.js';
import { openRowHashFile } from '../../tools/certification/row-hash-file.js';
import { digestTargetRows } from '../../tools/verification/compare-capture.js';
import type { DigestShape } from '../../tools/verification/row-digest.js';
import { createPgDatabase, pgExec, tempDir, type TempDatabase } from '../fixtures/databases.js';
import { asFormat1 } from '../fixtures/row-hash-v1.js';

const TARGET_SQL = `
CREATE TABLE alpha (id integer PRIMARY KEY, v text);
CREATE TABLE zeta (id integer PRIMARY KEY, v text);
CREATE TABLE delta (id integer PRIMARY KEY, v text);
CREATE TABLE beta (id integer PRIMARY KEY, v text);
CREATE TABLE gamma (label text, n integer);
INSERT INTO alpha SELECT g, 'alpha ' || g FROM generate_series(1, 3000) g;
INSERT INTO zeta SELECT g, 'zeta ' || g FROM generate_series(1, 3000) g;
INSERT INTO delta SELECT g, 'delta ' || g FROM generate_series(1, 50) g;
INSERT INTO beta SELECT g, 'beta ' || g FROM generate_series(1, 3000) g;
INSERT INTO gamma SELECT 'label ' || (g % 50), g % 7 FROM generate_series(1, 400) g;
`;

// Bucketed as certificates are now (hashtextextended) and, for delta and beta, as /2 certificates were (md5, no
// bucket_hash): a check that bucketed every table one way would find every bucket of the others different.
const keyed: DigestShape = { columns: [{ name: 'id', type: 'integer' }, { name: 'v', type: 'text' }], key: ['id'], bucketHash: 'hashtextextended' };
const keyedMd5: DigestShape = { columns: keyed.columns, key: keyed.key };
const keyless: DigestShape = { columns: [{ name: 'label', type: 'text' }, { name: 'n', type: 'integer' }], key: [], bucketHash: 'hashtextextended' };
const TABLES: Array<{ target: string; shape: DigestShape; buckets: number }> = [
  { target: 'alpha', shape: keyed, buckets: 64 },
  { target: 'zeta', shape: keyed, buckets: 64 },
  { target: 'delta', shape: keyedMd5, buckets: 2 },
  { target: 'beta', shape: keyedMd5, buckets: 64 },
  { target: 'gamma', shape: keyless, buckets: 8 },
];

describe('checking a target against the certificate row-hash file, streamed', () => {
  const dir = tempDir('sensei-certcheck-');
  let tgt: TempDatabase;
  let target: TargetConnector;
  let cert: Certificate;
  let v1Sha: string;
  const certPath = join(dir.path, 'run.json');
  const rowsPath = join(dir.path, 'run.rows.json.gz');

  beforeAll(async () => {
    tgt = await createPgDatabase('sensei_certcheck');
    await pgExec(tgt.url, TARGET_SQL);
    target = await openTarget(tgt.url);
    // What issueCertificate writes, reduced to what the check reads: per table shape, buckets, root; the file's sha256.
    const w = await openRowHashFile(rowsPath, 'run_c');
    const tables = [];
    for (const t of TABLES) {
      const { root } = await w.addTable(t.target, t.buckets, (onRows) => digestTargetRows(target, t.target, t.shape, t.buckets, onRows, 700));
      tables.push({ target: t.target, columns: t.shape.columns, key: t.shape.key, buckets: t.buckets, ...(t.shape.bucketHash ? { bucket_hash: t.shape.bucketHash } : {}), target_root: root });
    }
    const { sha256 } = await w.finish();
    cert = { payload: { tables, row_hashes: { file: 'run.rows.json.gz', sha256 } } } as unknown as Certificate;
    const v1 = asFormat1(readFileSync(rowsPath));
    writeFileSync(join(dir.path, 'v1.rows.json.gz'), v1);
    v1Sha = sha256Hex(v1);
  }, 60_000);

  afterAll(async () => {
    await target?.close();
    await tgt?.drop();
    dir.remove();
  });

  it('finds the unchanged target equal, table by table', async () => {
    const rows = await readRowHashFile(certPath, cert);
    expect(rows).toEqual({ path: rowsPath });
    expect(await checkTargetAgainstCertificate(cert, target, rows)).toEqual({
      matches: true,
      tables: TABLES.map((t) => ({ table: t.target, matches: true })),
      findings: [],
      rowHashes: { format: 'sensei-row-hashes/2', bitsPerRow: 128 },
    });
  });

  it('names each missing, extra and changed row by its own table and key, and a dropped table', async () => {
    // alpha, zeta (unchanged: its rows in the file are skipped) and beta share keys and shape: a reader that mixed
    // tables or buckets would report thousands of rows.
    await pgExec(
      tgt.url,
      `DELETE FROM alpha WHERE id = 10; INSERT INTO alpha VALUES (5000, 'alpha 5000'); UPDATE beta SET v = 'changed' WHERE id = 1500;
       UPDATE beta SET v = 'changed too' WHERE id = 2999; DROP TABLE delta; INSERT INTO gamma VALUES ('label 1', 1);`,
    );
    const check = await checkTargetAgainstCertificate(cert, target, await readRowHashFile(certPath, cert));
    expect(check.matches).toBe(false);
    expect(check.tables).toEqual([
      { table: 'alpha', matches: false },
      { table: 'zeta', matches: true },
      { table: 'delta', matches: false },
      { table: 'beta', matches: false },
      { table: 'gamma', matches: false },
    ]);
    // A row of a table without a key is named by its row hash, the full md5.
    const gammaExtra = check.findings.find((f) => f.code === 'row_extra' && f.path[0] === 'gamma')?.path[1];
    expect(gammaExtra).toMatch(/^row_hash=[0-9a-f]{32}$/);
    expect(check.findings.map((f) => [f.code, ...f.path])).toEqual([
      ['row_missing', 'alpha', 'id=10'],
      ['row_extra', 'alpha', 'id=5000'],
      ['rows_differ', 'alpha'],
      ['missing_table', 'delta'],
      ['row_changed', 'beta', 'id=1500'],
      ['row_changed', 'beta', 'id=2999'],
      ['rows_differ', 'beta'],
      ['row_extra', 'gamma', gammaExtra],
      ['rows_differ', 'gamma'],
    ]);
    expect(check.findings.filter((f) => f.code === 'rows_differ')).toEqual([
      expect.objectContaining({ table: 'alpha', missing: 1, extra: 1, changed: 0 }),
      expect.objectContaining({ table: 'beta', missing: 0, extra: 0, changed: 2 }),
      expect.objectContaining({ table: 'gamma', missing: 0, extra: 1, changed: 0 }),
    ]);
    expect(JSON.stringify(check)).not.toContain('changed too');

    // A certificate issued before format /2 carries a /1 file (16 hex digits a row): still checked, the same rows
    // named, the keyless row by the 16 digits it holds, and the result says rows were compared by 64 bits.
    const v1Cert = { payload: { ...cert.payload, row_hashes: { file: 'v1.rows.json.gz', sha256: v1Sha } } } as Certificate;
    const old = await checkTargetAgainstCertificate(v1Cert, target, await readRowHashFile(certPath, v1Cert));
    expect(old.rowHashes).toEqual({ format: 'sensei-row-hashes/1', bitsPerRow: 64 });
    expect(old.tables).toEqual(check.tables);
    const gammaHash = gammaExtra!.slice('row_hash='.length);
    expect(old.findings).toEqual(JSON.parse(JSON.stringify(check.findings).replaceAll(gammaHash, gammaHash.slice(0, 16))));
  });

  it('counts every differing row but lists only the first ones of each kind', async () => {
    await pgExec(tgt.url, `UPDATE alpha SET v = v || '!' WHERE id <= 1000`);
    const check = await checkTargetAgainstCertificate(cert, target, await readRowHashFile(certPath, cert));
    const alpha = check.findings.filter((f) => f.path[0] === 'alpha');
    expect(alpha.filter((f) => f.code === 'row_changed')).toHaveLength(50);
    expect(alpha.find((f) => f.code === 'rows_differ')).toMatchObject({ missing: 1, extra: 1, changed: 999 });
  });

  it('refuses a changed file before reading it, and names a damaged one', async () => {
    const bytes = readFileSync(rowsPath);
    const cut = join(dir.path, 'cut.rows.json.gz');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    const cutCert = { payload: { ...cert.payload, row_hashes: { file: 'cut.rows.json.gz', sha256: cert.payload.row_hashes!.sha256 } } } as Certificate;
    await expect(readRowHashFile(certPath, cutCert)).rejects.toThrow(`the row-hash file ${cut} is not the one certified (its sha256 differs)`);
    // Certified as it is (a damaged file can only come from the issuer): reading it fails, naming the file.
    const certifiedCut = { payload: { ...cutCert.payload, row_hashes: { file: 'cut.rows.json.gz', sha256: sha256Hex(readFileSync(cut)) } } } as Certificate;
    const rows = await readRowHashFile(certPath, certifiedCut);
    const failing = checkTargetAgainstCertificate(certifiedCut, target, rows);
    await expect(failing).rejects.toBeInstanceOf(CertificateError);
    await expect(checkTargetAgainstCertificate(certifiedCut, target, rows)).rejects.toThrow(`the row-hash file ${cut} is truncated`);
    await expect(readRowHashFile(certPath, { payload: { ...cert.payload, row_hashes: { file: 'gone.rows.json.gz', sha256: 'x' } } } as Certificate)).rejects.toThrow(
      `the row-hash file ${join(dir.path, 'gone.rows.json.gz')} cannot be read`,
    );
  });

  it('refuses a file whose tables are not the certificate\'s', async () => {
    const rows = await readRowHashFile(certPath, cert);
    const [alpha, zeta, delta, beta, gamma] = cert.payload.tables;
    const swapped = { payload: { ...cert.payload, tables: [zeta, alpha, delta, beta, gamma] } } as Certificate;
    await expect(checkTargetAgainstCertificate(swapped, target, rows)).rejects.toThrow(`the row-hash file ${rowsPath} does not match the certificate: it lists alpha where the certificate lists zeta`);
    const fewer = { payload: { ...cert.payload, tables: cert.payload.tables.slice(0, 4) } } as Certificate;
    await expect(checkTargetAgainstCertificate(fewer, target, rows)).rejects.toThrow('it lists more tables than the certificate');
  });

  it('streams keys with quotes, backslashes, tabs, newlines and non-ASCII as JSON.stringify writes them, COPY or cursor alike', async () => {
    const odd = ['plain', 'quote " here', 'back \\ slash', 'tab\there', 'new\nline', 'café ☕ 😀', '\\\\double', 'ctl \u0001'];
    await target.transaction(async (s) => {
      await s.query('CREATE TABLE odd_keys (k text PRIMARY KEY, n integer)');
      for (const [i, k] of odd.entries()) await s.query('INSERT INTO odd_keys VALUES ($1, $2)', [k, i]);
    });
    const shape: DigestShape = { columns: [{ name: 'k', type: 'text' }, { name: 'n', type: 'integer' }], key: ['k'], bucketHash: 'hashtextextended' };
    const read = async (t: TargetConnector): Promise<{ rows: string[]; root: string }> => {
      const rows: string[] = [];
      const { root } = await digestTargetRows(t, 'odd_keys', shape, 4, (chunk) => void rows.push(...chunk.map((r) => JSON.stringify(r))));
      return { rows, root };
    };
    // The same target with copyTo hidden: the cursor path.
    const cursorOnly: TargetConnector = Object.create(target, {
      transaction: { value: <T>(fn: (s: TargetSession) => Promise<T>) => target.transaction((s) => fn({ query: s.query, copyFrom: s.copyFrom })) },
    });
    const viaCopy = await read(target);
    expect(viaCopy).toEqual(await read(cursorOnly));
    expect(viaCopy.rows.map((r) => (JSON.parse(r) as [number, string, string])[1]).sort()).toEqual(odd.map((k) => JSON.stringify([k])).sort());
  });
});
