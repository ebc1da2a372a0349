// `sensei analyze` as a user runs it: text and JSON output on the bundled legacy sample, and its usage errors.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLegacySample } from '../../tools/demo/legacy-sample.js';
import { runCli } from '../fixtures/cli.js';
import { tempDir } from '../fixtures/databases.js';

const dir = tempDir('sensei-analyze-');
const home = join(dir.path, 'home');
const db = join(dir.path, 'legacy.db');
beforeAll(() => {
  createLegacySample(db);
});
afterAll(() => dir.remove());

describe('sensei analyze', () => {
  it('--json prints one object with per-column types, semantics, PII, fingerprints and relationships, and no values', async () => {
    const r = await runCli(['analyze', '--source', `sqlite://${db}`, '--json'], { home, env: { OPENAI_API_KEY: '' } });
    expect(r.code).toBe(0);
    const emp = (r.json.tables as Array<{ name: string; rows: number; columns: Array<Record<string, unknown>> }>).find((t) => t.name === 'EMP')!;
    expect(emp.rows).toBe(2000);
    const email = emp.columns.find((c) => c.name === 'EMAIL_ADDR')!;
    expect(email).toMatchObject({ declared_type: 'VARCHAR(120)', inferred_type: 'varchar', semantic_type: 'email', pii: 'personal', null_ratio: 0, distinct_ratio: 1 });
    expect(email.fingerprint).toHaveLength(128);
    expect(emp.columns.find((c) => c.name === 'FIRST_NM')).toMatchObject({ semantic_type: 'given_name', pii: 'personal' });
    expect(r.json.relationships).toContainEqual({ table: 'EMP', columns: ['DEPT_ID'], ref_table: 'DEPT', ref_columns: ['DEPT_ID'], confidence: 1, evidence: 'declared' });
    expect(Object.keys(r.json.timings_ms)).toEqual(['structural', 'sampling', 'statistical', 'statisticalCpu', 'semantic', 'relationships', 'descriptions']);
    expect(r.stdout).not.toMatch(/@example\.com/);
  });

  it('prints a table per source table and the relationships, with progress on stderr', async () => {
    const r = await runCli(['analyze', '--source', `sqlite://${db}`, '--sample', '500'], { home, env: { OPENAI_API_KEY: '' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^EMP \(2000 rows\)$/m);
    expect(r.stdout).toMatch(/EMAIL_ADDR\s+VARCHAR\(120\)\s+varchar\s+0%\s+100%\s+email\s+personal/);
    expect(r.stdout).toMatch(/EMP_PROJ\(EMP_ID\) → EMP\(EMP_ID\)\s+1\.00\s+declared/);
    expect(r.stderr).toMatch(/analyzed 2\/4 tables \(EMP: 500 rows sampled\).*tables\/s\s+ETA/);
  });

  it('exits 2 with a clear message for bad usage, and 0 for --help', async () => {
    const none = await runCli(['analyze'], { home });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/exactly one of --source URL or -c sensei.yaml/);
    const bad = await runCli(['analyze', '--source', `sqlite://${db}`, '--sample', '0'], { home });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--sample must be a positive whole number of rows \(got "0"\)/);
    const missing = await runCli(['analyze', '--source', `sqlite://${join(dir.path, 'nope.db')}`], { home });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.db does not exist/);
    const help = await runCli(['analyze', '--help'], { home });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: sensei analyze/);
  });
});
