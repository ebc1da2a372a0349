// The verification commands through the built CLI: certificate verify --target (and a damaged row-hash file),
// verify RUN_ID, retention purge.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Certificate } from '../../core/certificate.js';
import { sha256Hex } from '../../tools/certification/canonical-json.js';
import { serializeCertificate, signCertificate } from '../../tools/certification/certificate-signer.js';
import { companionPaths } from '../../tools/certification/issue-certificate.js';
import { loadSigningKey } from '../../tools/certification/signing-key.js';
import { runCli, type CliResult } from '../fixtures/cli.js';
import { createPgDatabase, pgExec, tempDir, type TempDatabase } from '../fixtures/databases.js';
import { asFormat1 } from '../fixtures/row-hash-v1.js';
import { homeWithStore } from '../fixtures/store-template.js';

describe('sensei verify, certificate verify --target, retention purge', () => {
  const dir = tempDir('sensei-v8-cli-');
  const home = homeWithStore(join(dir.path, 'home'));
  let src: TempDatabase;
  let tgt: TempDatabase;
  let migrated: CliResult;
  let changed: { code: string; path: string[] };
  let allFindings: Array<{ code: string; path: string[] }>;

  beforeAll(async () => {
    src = await createPgDatabase('sensei_v8csrc');
    tgt = await createPgDatabase('sensei_v8ctgt');
    await pgExec(src.url, `CREATE TABLE items (id integer PRIMARY KEY, label text NOT NULL, price numeric(8,2));
      INSERT INTO items SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 300) g;`);
    writeFileSync(join(dir.path, 'sensei.yaml'), `source:\n  url: ${src.url}\ntarget:\n  url: ${tgt.url}\nrules:\n  - name: priced\n    table: items\n    predicate: price > 0\n`);
    migrated = await runCli(['migrate', '-c', join(dir.path, 'sensei.yaml'), '--json'], { home });
  }, 180_000);

  afterAll(async () => {
    await src?.drop();
    await tgt?.drop();
    dir.remove();
  });

  it('certifies, then finds a changed cell in the target by table and key, never printing the value or the URL', async () => {
    expect(migrated.code).toBe(0);
    const file = migrated.json.certificate as string;
    const ok = await runCli(['certificate', 'verify', file, '--target', tgt.url, '--json'], { home });
    expect(ok.code).toBe(0);
    expect(ok.json).toMatchObject({ valid: true, target_matches: true, findings: [] });

    await pgExec(tgt.url, `UPDATE items SET label = 'forged label' WHERE id = 77`);
    const bad = await runCli(['certificate', 'verify', file, '--target', tgt.url], { home });
    expect(bad.code).toBe(4);
    expect(bad.stdout).toContain('items (id=77): row differs from the captured source');
    expect(bad.stdout + bad.stderr).not.toContain('forged');
    expect(bad.stdout + bad.stderr).not.toContain(tgt.url);

    const again = await runCli(['verify', migrated.json.run_id, '--json'], { home });
    expect(again.code).toBe(4);
    const content = again.json.checks.find((c: { check: string }) => c.check.startsWith('rows equal the source'));
    expect(content.findings[0]).toMatchObject({ code: 'row_changed', key: { id: '77' } });
    changed = content.findings[0];
    allFindings = again.json.checks.flatMap((c: { findings: unknown[] }) => c.findings);
  }, 240_000);

  it('rejects a tampered certificate before looking at the target', async () => {
    const file = migrated.json.certificate as string;
    const forged = join(dir.path, 'forged.json');
    writeFileSync(forged, readFileSync(file, 'utf8').replace('"rows_written":300', '"rows_written":299'));
    const res = await runCli(['certificate', 'verify', forged, '--target', tgt.url, '--json'], { home });
    expect(res.code).toBe(1);
    expect(res.json.valid).toBe(false);
    expect(res.json.problems).toContain('signature.value does not verify: the payload was changed after signing or signed with another key');
  }, 120_000);

  it('names a truncated or changed row-hash file and still compares the target table by table (exit 4)', async () => {
    const file = migrated.json.certificate as string;
    const cert = JSON.parse(readFileSync(file, 'utf8')) as Certificate;
    const bytes = readFileSync(companionPaths(file).rows);
    const cut = bytes.subarray(0, Math.floor(bytes.length * 0.6));
    // Changed after certification: its sha256 is not the certified one.
    mkdirSync(join(dir.path, 'changed'));
    const changedCert = join(dir.path, 'changed', basename(file));
    writeFileSync(changedCert, readFileSync(file));
    writeFileSync(join(dir.path, 'changed', cert.payload.row_hashes!.file), cut);
    const res = await runCli(['certificate', 'verify', changedCert, '--target', tgt.url, '--json'], { home });
    expect(res.code).toBe(4);
    const rowsPath = join(dir.path, 'changed', cert.payload.row_hashes!.file);
    expect(res.json.problems).toEqual([
      `row-hash file: the row-hash file ${rowsPath} is not the one certified (its sha256 differs): it was changed, truncated or replaced`,
      'items differs from what was certified; without the row-hash file the rows cannot be named',
    ]);
    // Certified truncated (signed with its sha256): the stream breaks, named, and the tables are still compared.
    const damagedCert = join(dir.path, 'damaged.json');
    writeFileSync(join(dir.path, 'damaged.rows.json.gz'), cut);
    const payload = { ...cert.payload, row_hashes: { file: 'damaged.rows.json.gz', sha256: sha256Hex(cut) } };
    writeFileSync(damagedCert, serializeCertificate(signCertificate(payload, loadSigningKey(home))));
    const damaged = await runCli(['certificate', 'verify', damagedCert, '--target', tgt.url], { home });
    expect(damaged.code).toBe(4);
    expect(damaged.stdout).toContain(`row-hash file: the row-hash file ${join(dir.path, 'damaged.rows.json.gz')} is truncated`);
    expect(damaged.stdout).toContain('items differs from what was certified; without the row-hash file the rows cannot be named');
    expect(damaged.stdout + damaged.stderr).not.toContain(tgt.url);
  }, 120_000);

  it('checks an old certificate\'s /1 row-hash file by 64 bits a row and says so; a file claiming /2 with 16-digit row hashes is named as damaged (exit 4)', async () => {
    const file = migrated.json.certificate as string;
    const cert = JSON.parse(readFileSync(file, 'utf8')) as Certificate;
    const bytes = readFileSync(companionPaths(file).rows);
    // A certificate signed over a row-hash file (as its issuer would have), next to it.
    const certifiedWith = (name: string, rows: Buffer): string => {
      writeFileSync(join(dir.path, `${name}.rows.json.gz`), rows);
      const payload = { ...cert.payload, row_hashes: { file: `${name}.rows.json.gz`, sha256: sha256Hex(rows) } };
      writeFileSync(join(dir.path, `${name}.json`), serializeCertificate(signCertificate(payload, loadSigningKey(home))));
      return join(dir.path, `${name}.json`);
    };
    expect(JSON.parse(gunzipSync(bytes).toString('utf8')).format).toBe('sensei-row-hashes/2');

    const v1 = certifiedWith('v1', asFormat1(bytes));
    const old = await runCli(['certificate', 'verify', v1, '--target', tgt.url, '--json'], { home });
    expect(old.code).toBe(4);
    expect(old.json.row_hashes).toEqual({ format: 'sensei-row-hashes/1', bits_per_row: 64 });
    expect(old.json.problems).toEqual(['items (id=77): row differs from the captured source', 'items: 0 missing, 0 extra, 1 changed row(s) against the source as captured']);
    const oldText = await runCli(['certificate', 'verify', v1, '--target', tgt.url], { home });
    expect(oldText.code).toBe(4);
    expect(oldText.stdout).toContain("note: the row-hash file is format sensei-row-hashes/1, which holds 64 bits of each row's md5: rows were compared by those bits only");
    const current = await runCli(['certificate', 'verify', file, '--target', tgt.url, '--json'], { home });
    expect(current.json).toMatchObject({ row_hashes: { format: 'sensei-row-hashes/2', bits_per_row: 128 }, problems: old.json.problems });

    const short = certifiedWith('short', asFormat1(bytes, 'sensei-row-hashes/2'));
    const res = await runCli(['certificate', 'verify', short, '--target', tgt.url, '--json'], { home });
    expect(res.code).toBe(4);
    expect(res.json.row_hashes).toBeNull();
    expect(res.json.problems).toEqual([
      expect.stringMatching(
        new RegExp(`^row-hash file: the row-hash file ${join(dir.path, 'short.rows.json.gz')} is damaged: a row's hash \\(table 1 of the file, bucket \\d+\\) is not 32 lower-case hex digits, as format sensei-row-hashes/2 holds \\(the row's full md5\\)$`),
      ),
      'items differs from what was certified; without the row-hash file the rows cannot be named',
    ]);
  }, 120_000);

  it('waives the changed row on a stakeholder\'s word: verify passes and lists it, the re-issued certificate carries who approved it', async () => {
    const runId = migrated.json.run_id as string;
    const pathArgs = changed.path.flatMap((p) => ['--path', p]);
    const wrongPath = await runCli(['waiver', 'add', runId, '--code', changed.code, '--path', 'items', '--path', 'nowhere', '--reason', 'label fixed by hand in the target', '--by', 'erin'], { home });
    expect(wrongPath.code).toBe(2);
    expect(wrongPath.stderr).toContain(`has no row_changed finding at [items, nowhere]`);
    const noReason = await runCli(['waiver', 'add', runId, '--code', changed.code, ...pathArgs, '--reason', 'ok', '--by', 'erin'], { home });
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('reason: give the reason in a sentence');

    const added = await runCli(['waiver', 'add', runId, '--code', changed.code, ...pathArgs, '--reason', 'label corrected by hand in the target, ticket OPS-12', '--by', 'erin', '--json'], { home });
    expect(added.code).toBe(0);
    expect(added.json.waiver).toMatchObject({ code: 'row_changed', path: changed.path, table: 'items', approved_by: 'erin', finding_id: expect.stringMatching(/^[0-9a-f]{8}$/) });
    // One waiver is not enough while the label statistics differ too: each finding needs its own.
    const partly = await runCli(['verify', runId, '--json'], { home });
    expect(partly.code).toBe(4);
    expect(partly.json.waived).toHaveLength(1);
    const others = allFindings.filter((f) => f !== changed && !(f.code === changed.code && f.path.join() === changed.path.join()));
    expect(others.length).toBeGreaterThan(0);
    for (const f of others) {
      const more = await runCli(['waiver', 'add', runId, '--code', f.code, ...f.path.flatMap((p) => ['--path', p]), '--reason', 'follows from the hand-corrected label, ticket OPS-12', '--by', 'erin'], { home });
      expect(more.code, more.stderr).toBe(0);
    }

    const verified = await runCli(['verify', runId, '--certify', '--json'], { home });
    expect(verified.code).toBe(0);
    expect(verified.json.passed).toBe(true);
    expect(verified.json.waived).toHaveLength(allFindings.length);
    expect(verified.json.waived[0]).toEqual({ finding: expect.objectContaining({ code: 'row_changed', path: changed.path }), waiver: expect.objectContaining({ approved_by: 'erin', reason: 'label corrected by hand in the target, ticket OPS-12' }) });
    const file = verified.json.certificate as string;
    const check = await runCli(['certificate', 'verify', file, '--target', tgt.url, '--json'], { home });
    expect(check.code).toBe(0);
    expect(check.json).toMatchObject({ valid: true, target_matches: true });
    const exceptions = JSON.parse(readFileSync(file, 'utf8')).payload.exceptions;
    expect(exceptions).toHaveLength(allFindings.length);
    expect(exceptions).toContainEqual(
      { table: 'items', count: 1, reason: 'waived row_changed: label corrected by hand in the target, ticket OPS-12', approved_by: 'erin', waiver: { id: added.json.waiver.id, code: 'row_changed', path: changed.path, approved_at: added.json.waiver.approved_at } },
    );

    const revoked = await runCli(['waiver', 'revoke', runId, String(added.json.waiver.id), '--by', 'frank'], { home });
    expect(revoked.code).toBe(0);
    expect((await runCli(['waiver', 'revoke', runId, String(added.json.waiver.id)], { home })).code).toBe(2);
    expect((await runCli(['waiver', 'list', runId, '--json'], { home })).json.waivers).toHaveLength(allFindings.length - 1);
    const failing = await runCli(['verify', runId], { home });
    expect(failing.code).toBe(4);
    expect(failing.stdout).toContain('[FAIL]');
    expect(failing.stdout).not.toContain('label corrected by hand');
  }, 240_000);

  it('purges validation results past retention, and explains its options', async () => {
    const purge = await runCli(['retention', 'purge', '--years', '0', '--json'], { home });
    expect(purge.code).toBe(0);
    expect(purge.json).toMatchObject({ validation_results: 5, captured_tables: 1, capture_files: 1 });
    const bad = await runCli(['retention', 'purge', '--years', 'soon'], { home });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--years must be a non-negative number');
    const help = await runCli(['verify', '--help'], { home });
    expect(help.stdout).toContain('Usage: sensei verify RUN_ID');
  }, 180_000);
});
