// sensei errors show|retry: review a queued row, fix the mapping, replay the queue, and get a re-issued certificate.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../fixtures/cli.js';
import { tempDir } from '../fixtures/databases.js';
import { homeWithStore } from '../fixtures/store-template.js';

describe('sensei errors show and retry', () => {
  const dir = tempDir('sensei-retry-');
  const home = homeWithStore(join(dir.path, 'home'));
  let runId = '';
  let firstCertificate = '';

  beforeAll(async () => {
    const db = new Database(join(dir.path, 'shop.db'));
    db.exec('CREATE TABLE item (id INTEGER PRIMARY KEY, code TEXT NOT NULL, qty TEXT)');
    const ins = db.prepare('INSERT INTO item VALUES (?, ?, ?)');
    for (let i = 1; i <= 30; i++) ins.run(i, `C${i}`, i === 4 ? '1,234' : i === 9 ? '2,000' : String(i * 3));
    db.close();
    writeFileSync(join(dir.path, 'target.sql'), 'CREATE TABLE item (id bigint PRIMARY KEY, code text NOT NULL, qty integer);\n');
    writeFileSync(
      join(dir.path, 'sensei.yaml'),
      `source:\n  url: sqlite://${join(dir.path, 'shop.db')}\ntarget:\n  url: pglite://${join(dir.path, 'target')}\n  schema: target.sql\n`,
    );
    const run = await runCli(['migrate', '-c', join(dir.path, 'sensei.yaml'), '--yes', '--json'], { home });
    expect(run.code, run.stderr).toBe(0);
    runId = run.json.run_id;
    firstCertificate = readFileSync(run.json.certificate, 'utf8');
    expect(run.json.tables[0]).toMatchObject({ rows_read: 30, rows_written: 28, rows_errored: 2 });
  }, 180_000);

  afterAll(() => dir.remove());

  it('shows one queued row in full', async () => {
    const list = await runCli(['errors', 'list', runId, '--json'], { home });
    const first = list.json.errors.find((e: { key: { id: string } }) => e.key.id === '4');
    const shown = await runCli(['errors', 'show', runId, String(first.id)], { home });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('qty = "1,234"');
    expect(shown.stdout).toContain(`#${first.id} item {"id":"4"}`);
    const missing = await runCli(['errors', 'show', runId, '999999'], { home });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no queued entry #999999/);
  }, 120_000);

  it('refuses a transformation the SQL allow-list rejects, and changes nothing', async () => {
    const bad = await runCli(['errors', 'retry', runId, '--transform', 'item.qty=pg_sleep(1)', '--json'], { home });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--transform item\.qty/);
    const list = await runCli(['errors', 'list', runId, '--json'], { home });
    expect(list.json.errors).toHaveLength(2);
  }, 120_000);

  it('keeps rows queued when a retry does not fix them', async () => {
    const again = await runCli(['errors', 'retry', runId, '--json'], { home });
    expect(again.code).toBe(1);
    expect(again.json).toMatchObject({ retried: 2, written: 0, still_queued: 2 });
  }, 120_000);

  it('a cell changed in the target fails verification until each of its findings is waived', async () => {
    const target = new PGlite(join(dir.path, 'target'));
    await target.query(`UPDATE item SET code = 'C1-corrected' WHERE id = 1`);
    await target.close();
    const failed = await runCli(['verify', runId, '--json'], { home });
    expect(failed.code).toBe(4);
    const findings = failed.json.checks.flatMap((c: { findings: Array<{ code: string; path: string[] }> }) => c.findings);
    expect(findings.map((f: { code: string }) => f.code)).toContain('row_changed');
    for (const f of findings) {
      const w = await runCli(['waiver', 'add', runId, '--code', f.code, ...f.path.flatMap((p: string) => ['--path', p]), '--reason', 'code corrected by hand in the target, ticket OPS-7', '--by', 'erin'], { home });
      expect(w.code, w.stderr).toBe(0);
    }
    const waived = await runCli(['verify', runId, '--json'], { home });
    expect(waived.code, JSON.stringify(waived.json?.checks?.flatMap((c: { findings: unknown[] }) => c.findings))).toBe(0);
  }, 300_000);

  it('writes the rows once the mapping is fixed, empties the queue and re-issues the certificate', async () => {
    const fixed = await runCli(['errors', 'retry', runId, '--transform', `item.qty=CAST(replace(src."qty", ',', '') AS integer)`, '--json'], { home });
    expect(fixed.code, fixed.stderr).toBe(0);
    // Passing includes the waivers approved above: a retry verifies as `sensei verify` does.
    expect(fixed.json).toMatchObject({ retried: 2, written: 2, still_queued: 0, verification_passed: true });
    const cert = readFileSync(fixed.json.certificate, 'utf8');
    expect(cert).not.toBe(firstCertificate);
    const payload = JSON.parse(cert).payload;
    expect(payload.coverage).toMatchObject({ rows_read: 30, rows_written: 30, rows_errored: 0 });
    expect(JSON.stringify(payload.exceptions)).toContain('code corrected by hand in the target, ticket OPS-7');
    const verify = await runCli(['certificate', 'verify', fixed.json.certificate], { home });
    expect(verify.code, verify.stdout).toBe(0);

    const list = await runCli(['errors', 'list', runId, '--json'], { home });
    expect(list.json.errors).toHaveLength(0);
    const all = await runCli(['errors', 'list', runId, '--all', '--json'], { home });
    expect(all.json.errors.map((e: { resolvedAt: string | null }) => e.resolvedAt !== null)).toEqual([true, true]);
    const status = await runCli(['status', runId, '--json'], { home });
    expect(status.json.tables[0]).toMatchObject({ rows_written: 30, rows_errored: 0 });
    // Retrying again finds nothing left to do.
    const nothing = await runCli(['errors', 'retry', runId, '--json'], { home });
    expect(nothing.json).toMatchObject({ retried: 0, written: 0, still_queued: 0 });
  }, 300_000);
});
