// `sensei demo`: the whole pipeline on the bundled legacy sample, no server needed.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLegacySample } from '../../tools/demo/legacy-sample.js';
import { runCli } from '../fixtures/cli.js';
import { tempDir } from '../fixtures/databases.js';

describe('sensei demo', () => {
  const dir = tempDir('sensei-demo-');
  const home = join(dir.path, 'home');
  const facts = createLegacySample(join(dir.path, 'facts.db'));
  let demo: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    demo = await runCli(['demo', '--json'], { home });
  }, 120_000);
  afterAll(() => dir.remove());

  it('migrates every table and accounts for every row, with the planted bad rows queued', () => {
    expect(demo.code).toBe(0);
    // The empty home got its store from the build's template, not from initdb (which says why on stderr).
    expect(demo.stderr).not.toContain('creating the embedded store with initdb instead');
    expect(demo.json.status).toBe('completed');
    const tables = demo.json.tables as Array<{ source: string; target: string; rows_read: number; rows_written: number; rows_errored: number }>;
    expect(tables.map((t) => [t.source, t.target])).toEqual([
      ['DEPT', 'dept'],
      ['EMP', 'emp'],
      ['PROJ', 'proj'],
      ['EMP_PROJ', 'emp_proj'],
    ]);
    for (const t of tables) {
      expect(t.rows_read).toBe(facts.rows[t.source]);
      expect(t.rows_errored).toBe(facts.bad[t.source]);
      expect(t.rows_written + t.rows_errored).toBe(t.rows_read);
    }
  });

  it('issues a certificate that verifies', async () => {
    const v = await runCli(['certificate', 'verify', demo.json.certificate, '--json'], { home });
    expect(v.code).toBe(0);
    expect(v.json.valid).toBe(true);
  });

  it('lists every queued row with table, key, column, rule and reason', async () => {
    const list = await runCli(['errors', 'list', demo.json.run_id, '--json'], { home });
    expect(list.code).toBe(0);
    const errors = list.json.errors as Array<{ table: string; key: Record<string, unknown>; column: string | null; rule: string; reason: string }>;
    const total = (demo.json.tables as Array<{ rows_errored: number }>).reduce((a, t) => a + t.rows_errored, 0);
    expect(errors).toHaveLength(total);
    const emp = errors.filter((e) => e.table === 'EMP').map((e) => [e.key, e.column, e.rule]);
    expect(emp).toEqual(
      expect.arrayContaining([
        [{ EMP_ID: '101' }, 'HIRE_DT', 'date_format'],
        [{ EMP_ID: '202' }, 'HIRE_DT', 'invalid_date'],
        [{ EMP_ID: '303' }, 'SALARY_AMT', 'numeric_range'],
      ]),
    );
    expect(errors.filter((e) => e.table === 'PROJ').map((e) => [e.key, e.column, e.rule])).toEqual([[{ PROJ_CD: 'P00007' }, 'PROJ_NM', 'max_length']]);
    expect(errors.filter((e) => e.table === 'EMP_PROJ').every((e) => e.rule === 'fk_orphan' && /does not exist/.test(e.reason))).toBe(true);
  });

  it('prints a readable summary and the certificate path without --json', async () => {
    const human = await runCli(['demo'], { home: join(dir.path, 'home2') });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/source\s+target\s+read\s+written\s+queued/);
    expect(human.stdout).toMatch(/Verification: passed/);
    expect(human.stdout).toMatch(/Certificate: .*\.json/);
    expect(human.stderr).toMatch(/rows\/s/);
  });
});
