import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMapper } from '../../../agents/mapper.js';
import { planJson } from '../../../cli/commands/plan.js';
import type { TableDef } from '../../../core/catalog.js';
import { allMappings, type Plan } from '../../../core/plan.js';
import type { ErrorQueueEntry, TableOutcome } from '../../../core/run.js';
import { openSource } from '../../../connectors/open-source.js';
import { openTarget } from '../../../connectors/open-target.js';
import { executePlan } from '../../../tools/execution/execute-plan.js';
import { constraintRules, uniqueKeyColumns } from '../../../tools/planning/constraint-rules.js';
import { checkExpression } from '../../../tools/planning/expression-guard.js';

const people: TableDef = {
  schema: 'public',
  name: 'people',
  columns: [],
  primaryKey: ['id'],
  uniques: [{ name: 'people_email_key', columns: ['email'] }, { name: 'people_pk_copy', columns: ['id'] }],
  foreignKeys: [{ name: 'people_team_fk', columns: ['team_id'], refTable: 'teams', refColumns: ['id'] }],
  rowCount: null,
};

describe('constraintRules', () => {
  it('emits unique for primary-key and unique columns and fk for foreign-key columns, naming the key', () => {
    expect(constraintRules('ID', people, 'id').map((r) => r.rule)).toEqual(['unique']);
    expect(constraintRules('ID', people, 'id')[0]!.message).toContain('ID → people.id is part of the primary key (id) of people');
    expect(constraintRules('MAIL', people, 'email')[0]!.message).toContain('unique constraint "people_email_key" (email)');
    expect(constraintRules('TEAM', people, 'team_id')).toEqual([
      expect.objectContaining({ rule: 'fk', message: expect.stringContaining('foreign key "people_team_fk" (team_id) → teams (id)') }),
    ]);
    expect(constraintRules('NOTE', people, 'note')).toEqual([]);
  });

  it('tells which source columns hold a violated constraint', () => {
    const mapping = (sourceColumn: string, targetColumn: string) => ({ sourceColumn, validationRules: constraintRules(sourceColumn, people, targetColumn) });
    const cols = [mapping('ID', 'id'), mapping('MAIL', 'email'), mapping('TEAM', 'team_id')] as unknown as Parameters<typeof uniqueKeyColumns>[0];
    expect(uniqueKeyColumns(cols, 'people_email_key')).toEqual(['MAIL']);
    expect(uniqueKeyColumns(cols, 'people_pkey')).toEqual(['ID']);
  });
});

describe('unique and fk rules from an existing target, end to end (SQLite → PGlite)', () => {
  let dir: string;
  let plan: Plan;
  let outcomes: TableOutcome[];
  const errors: ErrorQueueEntry[] = [];
  let written: Array<{ id: string; email: string | null }> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sensei-keys-'));
    const file = join(dir, 'source.db');
    const db = new Database(file);
    db.exec(`
      CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
      CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, team_id INTEGER);
      INSERT INTO teams VALUES (1, 'red'), (2, 'blue');
      INSERT INTO people VALUES (1, 'a@x.org', 1), (2, 'b@x.org', 2), (3, 'a@x.org', 1), (4, 'c@x.org', 9), (5, NULL, NULL);
    `);
    db.close();
    const source = await openSource(`sqlite://${file}`);
    const target = await openTarget('pglite://memory');
    try {
      await target.query(`CREATE TABLE teams (id integer PRIMARY KEY, name text NOT NULL)`);
      await target.query(`CREATE TABLE people (id integer PRIMARY KEY, email text CONSTRAINT people_email_key UNIQUE, team_id integer CONSTRAINT people_team_fk REFERENCES teams (id))`);
      const catalog = await source.catalog({ withCounts: true });
      ({ plan } = await createMapper().plan({ source: catalog, target, thresholds: { autoApproveAbove: 0.95, reviewAbove: 0.8 } }));
      outcomes = await executePlan(
        { runId: 'run_keys', source, target, errors: { add: async (_run, entries) => void errors.push(...entries) }, batchSize: 10 },
        plan,
        catalog,
      );
      written = (await target.query<{ id: string; email: string | null }>(`SELECT id::text AS id, email FROM people ORDER BY people.id`)).rows;
    } finally {
      await Promise.allSettled([source.close(), target.close()]);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('shows unique and fk in the plan JSON, on the key columns only, with SQL the allow-list accepts', async () => {
    const json = planJson(plan, 'none') as { mappings: Array<{ source: string; validation_rules: Array<{ rule: string; predicate: string }> }> };
    const rules = Object.fromEntries(json.mappings.map((m) => [m.source, m.validation_rules.map((r) => r.rule).filter((r) => r === 'unique' || r === 'fk')]));
    expect(rules).toEqual({ 'teams.id': ['unique'], 'teams.name': [], 'people.id': ['unique'], 'people.email': ['unique'], 'people.team_id': ['fk'] });
    for (const m of allMappings(plan)) for (const r of m.validationRules) expect(await checkExpression(r.predicate, { allowedColumns: [m.sourceColumn] })).toMatchObject({ ok: true });
  });

  it('queues the duplicate key as unique and the missing parent as fk_orphan, naming the columns; counts balance', () => {
    expect(errors.map((e) => [e.table, e.key, e.rule, e.column])).toEqual([
      ['people', { id: '3' }, 'unique', 'email'],
      ['people', { id: '4' }, 'fk_orphan', 'team_id'],
    ]);
    expect(errors[0]!.reason).toContain('constraint people_email_key');
    expect(written).toEqual([{ id: '1', email: 'a@x.org' }, { id: '2', email: 'b@x.org' }, { id: '5', email: null }]);
    const p = outcomes.find((o) => o.target === 'people')!;
    expect([p.rows_read, p.rows_written, p.rows_errored]).toEqual([5, 3, 2]);
  });
});
