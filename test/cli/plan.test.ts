// `sensei plan` through the built CLI: a legacy SQLite source, a DDL target, the --json contract, with and without an LLM.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../fixtures/cli.js';
import { createPgDatabase, tempDir, type TempDatabase } from '../fixtures/databases.js';
import { startOpenAiStub } from '../fakes/openai-stub.js';
import { homeWithStore } from '../fixtures/store-template.js';
import { learnMappings } from '../../agents/amani-learn.js';
import { analyzeOnly } from '../../graph/single-agent.js';
import { createPatternLibrary } from '../../tools/patterns/pattern-library.js';
import { openStore } from '../../tools/store/sensei-store.js';

const dir = tempDir('sensei-plan-');
const home = join(dir.path, 'home');
const config = join(dir.path, 'sensei.yaml');
let target: TempDatabase;

beforeAll(async () => {
  homeWithStore(home);
  // A real PostgreSQL target (only read by plan): one embedded PostgreSQL fewer per run on a loaded machine.
  target = await createPgDatabase('sensei_plan');
  const db = new Database(join(dir.path, 'legacy.db'));
  db.exec(`
    CREATE TABLE DEPT (DEPT_CD VARCHAR(4) PRIMARY KEY, DEPT_NAME VARCHAR(40) NOT NULL);
    CREATE TABLE EMP (EMP_NO INTEGER PRIMARY KEY, EMP_FNM VARCHAR(40) NOT NULL, HIRE_DT VARCHAR(10), TERM_FLG CHAR(1),
      DEPT_CD VARCHAR(4) REFERENCES DEPT(DEPT_CD), MGR_EMP_NO INTEGER REFERENCES EMP(EMP_NO), ZZ_LEGACY TEXT);
    INSERT INTO DEPT VALUES ('ENG', 'Engineering'), ('FIN', 'Finance');
    INSERT INTO EMP VALUES (1, 'Jonas', '16/12/2018', 'N', 'ENG', NULL, 'x'), (2, 'Priya', '11/01/2006', 'Y', 'FIN', 1, 'y');`);
  db.close();
  writeFileSync(
    join(dir.path, 'target.sql'),
    `CREATE TABLE departments (code varchar(4) PRIMARY KEY, name varchar(40) NOT NULL);
     CREATE TABLE employees (employee_id integer PRIMARY KEY, first_name varchar(40) NOT NULL, hired_on date, is_terminated boolean,
       department_code varchar(4) REFERENCES departments(code), manager_id integer REFERENCES employees(employee_id), badge text);`,
  );
  writeFileSync(config, `source:\n  url: sqlite:legacy.db\ntarget:\n  url: ${target.url}\n  schema: target.sql\n`);
});
afterAll(async () => {
  await target.drop();
  dir.remove();
});

describe('sensei plan', () => {
  it('prints the plan contract as one JSON object, deterministically without an LLM', { timeout: 180_000 }, async () => {
    const r = await runCli(['plan', '-c', config, '--json'], { home, env: { OPENAI_API_KEY: '' } });
    expect(r.code, r.stderr).toBe(0);
    const j = r.json;
    expect(j.tables).toEqual([
      { source: 'DEPT', target: 'departments', confidence: expect.any(Number) },
      { source: 'EMP', target: 'employees', confidence: expect.any(Number) },
    ]);
    const by = Object.fromEntries(j.mappings.map((m: any) => [m.source, m]));
    expect(Object.keys(by).sort()).toEqual(['DEPT.DEPT_CD', 'DEPT.DEPT_NAME', 'EMP.DEPT_CD', 'EMP.EMP_FNM', 'EMP.EMP_NO', 'EMP.HIRE_DT', 'EMP.MGR_EMP_NO', 'EMP.TERM_FLG']);
    expect(by['EMP.EMP_FNM']).toMatchObject({ target: 'employees.first_name', band: 'auto', origin: 'heuristic' });
    expect(by['EMP.HIRE_DT']).toMatchObject({ target: 'employees.hired_on', transformation: `CAST(to_date(btrim(src."HIRE_DT"), 'DD/MM/YYYY') AS date)` });
    expect(by['EMP.HIRE_DT'].validation_rules.map((v: any) => v.rule)).toEqual(['date_format']);
    expect(by['EMP.TERM_FLG'].transformation).toBe(`CASE upper(btrim(src."TERM_FLG")) WHEN 'Y' THEN true WHEN 'N' THEN false END`);
    for (const m of j.mappings) {
      expect(Object.keys(m).sort()).toEqual(['band', 'confidence', 'origin', 'rationale', 'source', 'target', 'transformation', 'validation_rules']);
      expect(['auto', 'review', 'explicit']).toContain(m.band);
    }
    expect(j.unmapped_source).toEqual(['EMP.ZZ_LEGACY']);
    expect(j.unmapped_target).toEqual(['employees.badge']);
    expect(j.phases).toEqual([['departments'], ['employees']]);
    expect(j.llm).toContain('no LLM configured');
    expect(j.warnings.join('\n')).toContain('the plan was made deterministically');
  });

  it('asks the model about the unsure columns when OPENAI_API_KEY is set', { timeout: 180_000 }, async () => {
    const stub = await startOpenAiStub((req) =>
      JSON.stringify(req.messages).includes('Source column: EMP.ZZ_LEGACY')
        ? { json: JSON.stringify({ target: 'employees.badge', transformation: 'upper(src."ZZ_LEGACY")', rationale: 'legacy badge code', confidence: 0.85 }) }
        : { json: JSON.stringify({ target: null, transformation: null, rationale: 'keep', confidence: 0.2 }) },
    );
    try {
      const r = await runCli(['plan', '-c', config, '--json'], { home, env: { OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: stub.url, SENSEI_MODEL: 'stub-model' } });
      expect(r.code, r.stderr).toBe(0);
      const m = r.json.mappings.find((x: any) => x.source === 'EMP.ZZ_LEGACY');
      expect(m).toMatchObject({ target: 'employees.badge', origin: 'llm', band: 'review', transformation: 'upper(src."ZZ_LEGACY")', confidence: 0.85 });
      expect(r.json.unmapped_source).toEqual([]);
      expect(r.json.llm).toBe(`stub-model at ${stub.url}`);
      expect(JSON.stringify(stub.requests)).not.toContain('Jonas');
    } finally {
      await stub.close();
    }
  });

  it('asks the pattern library of its store first: a mapping a stakeholder approved comes back with origin pattern', { timeout: 180_000 }, async () => {
    // A fresh home of its own: the mapping below must come from what this store learned, nothing else.
    const learnedHome = homeWithStore(join(dir.path, 'learned-home'));
    const before = await runCli(['plan', '-c', config, '--json'], { home: learnedHome, env: { OPENAI_API_KEY: '' } });
    expect(before.code, before.stderr).toBe(0);
    expect(before.json.unmapped_source).toEqual(['EMP.ZZ_LEGACY']);

    // What AMANI records when a stakeholder maps ZZ_LEGACY to badge (fingerprints from the same analysis a plan runs).
    const catalog = await analyzeOnly({ source: { url: 'sqlite:legacy.db' } } as any, dir.path);
    const store = await openStore({ home: learnedHome });
    try {
      await learnMappings(createPatternLibrary(store.pool), {
        runId: 'run_learned',
        by: 'alice',
        source: catalog,
        mappings: [{ sourceTable: 'EMP', sourceColumn: 'ZZ_LEGACY', targetTable: 'employees', targetColumn: 'badge', transformation: 'upper(src."ZZ_LEGACY")' } as any],
      });
    } finally {
      await store.close();
    }

    const after = await runCli(['plan', '-c', config, '--json'], { home: learnedHome, env: { OPENAI_API_KEY: '' } });
    expect(after.code, after.stderr).toBe(0);
    const m = after.json.mappings.find((x: any) => x.source === 'EMP.ZZ_LEGACY');
    expect(m).toMatchObject({ target: 'employees.badge', origin: 'pattern', transformation: 'upper(src."ZZ_LEGACY")' });
    expect(after.json.unmapped_source).toEqual([]);
    // The home the pattern was not recorded in still leaves the column unmapped.
    const other = await runCli(['plan', '-c', config, '--json'], { home, env: { OPENAI_API_KEY: '' } });
    expect(other.json.unmapped_source).toEqual(['EMP.ZZ_LEGACY']);
  });

  it('answers --help and refuses a missing config with exit code 2', async () => {
    const h = await runCli(['plan', '--help'], { home });
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('Usage: sensei plan -c sensei.yaml [--json]');
    const bad = await runCli(['plan', '--json'], { home });
    expect(bad.code).toBe(2);
    expect(bad.json.error.message).toContain('plan needs a configuration file');
  });
});
