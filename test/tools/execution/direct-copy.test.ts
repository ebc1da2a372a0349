// The direct path (COPY straight into the target) must load exactly what the staged path loads and queue exactly
// what it queues; its Node-side checks may only say "passes" when the rule's SQL predicate passes.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogicalType } from '../../../core/catalog.js';
import type { ColumnMapping, TableMapping } from '../../../core/plan.js';
import { directCopyFor, type DirectCopy } from '../../../tools/execution/direct-copy.js';
import { columnTransform, recogniseRule } from '../../../tools/planning/transformations.js';
import { createPgDatabase, PG_ADMIN_URL, pgExec, pgQuery, tempDir, type TempDatabase } from '../../fixtures/databases.js';
import { countsBalance, migrateDirect } from '../../fixtures/direct-migration.js';

function column(sourceColumn: string, sourceType: LogicalType, targetType: string, targetNullable = true): ColumnMapping {
  const t = columnTransform({ sourceColumn, sourceType, targetColumn: sourceColumn, targetType, targetNullable });
  return {
    sourceTable: 's',
    sourceColumn,
    targetTable: 't',
    targetColumn: sourceColumn,
    transformation: t.transformation,
    targetType,
    confidence: 1,
    band: 'auto',
    origin: 'generated',
    rationale: 'test',
    validationRules: t.validationRules,
  } as ColumnMapping;
}

const table = (columns: ColumnMapping[]): TableMapping => ({ source: 's', target: 't', confidence: 1, rationale: 'test', sourceKey: [], columns });
const typesOf = (m: TableMapping): Map<string, string> => new Map(m.columns.map((c) => [c.targetColumn, c.targetType]));

describe('which tables take the direct path', () => {
  const plain = table([
    column('id', { kind: 'int32' }, 'integer', false),
    column('name', { kind: 'varchar', length: 20 }, 'character varying(20)'),
    column('code', { kind: 'char', length: 4 }, 'character(4)'),
    column('born', { kind: 'date' }, 'date'),
    column('price', { kind: 'decimal', precision: 8, scale: 2 }, 'numeric(8,2)'),
    column('note', { kind: 'text' }, 'text'),
  ]);

  it('takes a table of plain casts whose rules Sensei wrote, trimming only the CHAR column', () => {
    const d = directCopyFor(plain, typesOf(plain)) as DirectCopy;
    expect('refused' in d).toBe(false);
    expect(d.targetColumns).toEqual(['id', 'name', 'code', 'born', 'price', 'note']);
    expect(d.columns.map((c) => c.trim)).toEqual([false, false, true, false, false, false]);
  });

  it('refuses, naming the column, when a transformation, a rule or a type is not one it can vouch for', () => {
    const edit = (i: number, change: Partial<ColumnMapping>): TableMapping => ({ ...plain, columns: plain.columns.map((c, k) => (k === i ? { ...c, ...change } : c)) });
    const refusal = (m: TableMapping, types = typesOf(m)): string => (directCopyFor(m, types) as { refused: string }).refused;
    expect(refusal(edit(1, { transformation: 'upper(src."name")' }))).toBe('s.name → name: transformation is not a plain cast');
    const rules = plain.columns[0]!.validationRules;
    expect(refusal(edit(0, { validationRules: [...rules, { rule: 'positive', predicate: 'CAST(src."id" AS integer) > 0', message: 'm' }] }))).toBe(
      's.id → id: rule positive is not one Sensei wrote',
    );
    // A rule rewritten around the planner's (an extra condition) is not the planner's any more…
    const wrapped = rules.map((r) => (r.rule === 'integer_range' ? { ...r, predicate: `${r.predicate} AND src."id" <> '7'` } : r));
    expect(refusal(edit(0, { validationRules: wrapped }))).toBe('s.id → id: rule integer_range is not one Sensei wrote');
    // …while the planner's rule with a stakeholder's bound is checked with that bound.
    const narrowed = rules.map((r) => (r.rule === 'integer_range' ? { ...r, predicate: r.predicate.replace('2147483647', '100') } : r));
    const checks = (directCopyFor(edit(0, { validationRules: narrowed }), typesOf(plain)) as DirectCopy).columns[0]!.checks;
    expect(checks.every((c) => c(100))).toBe(true);
    expect(checks.every((c) => c(101))).toBe(false);
    expect(checks.every((c) => c(null))).toBe(false); // not_null
    expect(refusal(plain, new Map([...typesOf(plain), ['born', 'timestamp without time zone']]))).toBe(
      's.born → born: the target column is timestamp without time zone, the plan says date',
    );
    expect(refusal(edit(1, { validationRules: plain.columns[1]!.validationRules.filter((r) => r.rule !== 'max_length') }))).toBe(
      's.name → name: character varying(20) without its max_length rule',
    );
    const bits = table([column('b', { kind: 'bits', length: 3 }, 'bit(3)')]);
    expect(refusal(bits)).toBe('s.b → b: no direct path for type bit(3)');
  });

  it('recognises every rule the planner writes for the common types, and nothing edited', () => {
    const cases: Array<[LogicalType, string]> = [
      [{ kind: 'int16' }, 'smallint'],
      [{ kind: 'int64' }, 'bigint'],
      [{ kind: 'decimal', precision: 10, scale: 3 }, 'numeric(10,3)'],
      [{ kind: 'float64' }, 'double precision'],
      [{ kind: 'timestamp' }, 'timestamp without time zone'],
      [{ kind: 'boolean' }, 'boolean'],
      [{ kind: 'char', length: 3 }, 'character(3)'],
    ];
    for (const [type, target] of cases) {
      const t = columnTransform({ sourceColumn: 'we"ird col', sourceType: type, targetColumn: 'x', targetType: target, targetNullable: false });
      for (const r of t.validationRules) {
        expect(recogniseRule('we"ird col', r.predicate), `${target} ${r.rule}`).not.toBeNull();
        expect(recogniseRule('other', r.predicate), `${target} ${r.rule} on another column`).toBeNull();
        expect(recogniseRule('we"ird col', `${r.predicate} AND true`)).toBeNull();
      }
    }
  });
});

describe('the checks never pass a value the SQL predicate fails', () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: PG_ADMIN_URL });
    await client.connect();
  });
  afterAll(async () => client?.end());

  const tricky: unknown[] = [
    null, '', ' ', '0', '-0', '+5', ' 12 ', '0012', '12.50', '12.5000', '-999999.99', '1000000.00', '1e3', '1.5e-7', 'NaN',
    'Infinity', '-infinity', '9223372036854775808', '-2147483648', '2147483648', '12345678901234567890', 'abc', 'TRUE', 'true',
    'Yes', 'on', 't', '2020-01-31', '1999-12-31', '0009-12-04', '2020-1-31', ' 2020-01-31', '2020-02-30', '20200131', '99999-01-01', '2020-01-31 BC',
    '2020-01-31 10:20:30', '2020-01-31T10:20:30', '2020-01-31 10:20:30.1234567', 'ab  ', 'abcd', 'abcde', '😀😀😀', 'é'.repeat(4),
    42, -7, 2147483648, 1.5, Number.NaN, Number.POSITIVE_INFINITY, true, false, 12345678901234567890n,
  ];
  const cases: Array<[LogicalType, string]> = [
    [{ kind: 'int32' }, 'integer'],
    [{ kind: 'int64' }, 'bigint'],
    [{ kind: 'decimal', precision: 8, scale: 2 }, 'numeric(8,2)'],
    [{ kind: 'float64' }, 'double precision'],
    [{ kind: 'date' }, 'date'],
    [{ kind: 'timestamp' }, 'timestamp without time zone'],
    [{ kind: 'varchar', length: 4 }, 'character varying(4)'],
    [{ kind: 'char', length: 4 }, 'character(4)'],
    [{ kind: 'text' }, 'boolean'],
  ];

  it.each(cases)('%o → %s', async (type, target) => {
    const m = table([column('v', type, target, false)]);
    const d = directCopyFor(m, typesOf(m)) as DirectCopy;
    expect('refused' in d, JSON.stringify(d)).toBe(false);
    const checks = d.columns[0]!.checks;
    expect(checks.length).toBeGreaterThan(0);
    let passed = 0;
    for (const value of tricky) {
      const node = checks.every((check) => check(value as never));
      const text = value === null ? null : typeof value === 'boolean' ? (value ? 't' : 'f') : String(value);
      const sql = m.columns[0]!.validationRules.map((r) => `coalesce(${r.predicate}, false)`).join(' AND ');
      const res = await client.query<{ ok: boolean }>(`SELECT (${sql}) AS ok FROM (SELECT CAST($1 AS text) AS "v") AS src`, [text]);
      if (node) {
        expect(res.rows[0]!.ok, `${target}: Node passed ${String(value)} but SQL fails it`).toBe(true);
        passed++;
      }
    }
    // Not vacuous: the common, canonical values go the direct way.
    expect(passed).toBeGreaterThanOrEqual(3);
  });
});

describe('a load through the direct path ends as the staged path does', () => {
  const dir = tempDir('sensei-direct-');
  const sqlite = join(dir.path, 'shop.sqlite');
  const targets: TempDatabase[] = [];
  // A unique index, not a constraint: execution lifts a table's keys and unique constraints for the load (and queues
  // duplicates when it puts them back), while a unique index stays and makes the target refuse a direct COPY.
  const targetDdl = `CREATE TABLE item (id integer PRIMARY KEY, code character(4), name varchar(6) NOT NULL, born date, qty integer CHECK (qty >= 0), price numeric(6,2)); CREATE UNIQUE INDEX item_code ON item (code);`;

  beforeAll(() => {
    const db = new Database(sqlite);
    db.exec(`CREATE TABLE item (id INTEGER PRIMARY KEY, code CHAR(4), name VARCHAR(10), born DATE, qty INTEGER, price DECIMAL(6,2))`);
    const insert = db.prepare('INSERT INTO item VALUES (?, ?, ?, ?, ?, ?)');
    for (let i = 1; i <= 40; i++) insert.run(i, `c${String(i).padStart(2, '0')}`, `n${i}`, `2020-01-${String((i % 28) + 1).padStart(2, '0')}`, i, `${i}.50`);
    // Bad rows, each in its own batch of 7: a name too long (check fails), an impossible date (the source queues it
    // as it reads; the rest of its batch still goes direct), a duplicate code (unique: the COPY is refused), a
    // negative quantity (target CHECK: refused), a NULL name (not_null check fails).
    db.prepare('UPDATE item SET name = ? WHERE id = 3').run('much too long');
    db.prepare('UPDATE item SET born = ? WHERE id = 10').run('2021-02-30');
    db.prepare('UPDATE item SET code = ? WHERE id = 17').run('c16');
    db.prepare('UPDATE item SET qty = -1 WHERE id = 24').run();
    db.prepare('UPDATE item SET name = NULL WHERE id = 31').run();
    db.close();
  });
  afterAll(async () => {
    for (const t of targets) await t.drop();
    dir.remove();
  });

  it('writes the same rows and queues the same rows, with most batches direct', async () => {
    interface Loaded {
      run: Awaited<ReturnType<typeof migrateDirect>>;
      rows: Record<string, unknown>[];
      paths: Array<[string, string | null]>;
    }
    const runs: Loaded[] = [];
    for (const directCopy of [true, false]) {
      const tgt = await createPgDatabase('sensei_direct');
      targets.push(tgt);
      await pgExec(tgt.url, targetDdl);
      const paths: Array<[string, string | null]> = [];
      const run = await migrateDirect(`sqlite://${sqlite}`, tgt.url, { batchSize: 7, directCopy, onPath: (_t, path, why) => paths.push([path, why]) });
      const rows = await pgQuery(tgt.url, 'SELECT id, code, name, CAST(born AS text) AS born, qty, CAST(price AS text) AS price FROM item ORDER BY id');
      runs.push({ run, rows, paths });
    }
    const [direct, staged] = runs as [Loaded, Loaded];
    expect(countsBalance(direct.run.outcomes)).toBe(true);
    expect(direct.run.outcomes).toEqual(staged.run.outcomes.map((o) => ({ ...o, seconds: direct.run.outcomes[0]!.seconds })));
    expect(direct.rows).toEqual(staged.rows);
    expect(direct.rows).toHaveLength(35);
    expect((direct.rows[0] as { code: string }).code).toBe('c01 '); // character(4) pads
    const queued = (r: Loaded) => r.run.errors.map((e) => `${JSON.stringify(e.key)} ${e.column} ${e.rule}`).sort();
    expect(queued(direct)).toEqual(queued(staged));
    expect(queued(direct)).toEqual([
      '{"id":"10"} born invalid_date',
      '{"id":"17"} code unique',
      '{"id":"24"} null write_rejected',
      '{"id":"3"} name max_length',
      '{"id":"31"} name not_null',
    ]);
    // 6 batches of 7: ids 8–14 (its bad row queued by the source) and 36–40 direct, the other four staged, saying why.
    expect(staged.paths.every(([p, why]) => p === 'staged' && why === 'strategy.direct_copy is false')).toBe(true);
    expect(direct.paths.filter(([p]) => p === 'direct')).toHaveLength(2);
    const why = direct.paths.filter(([p]) => p === 'staged').map(([, w]) => w);
    expect(why).toContain('the target refused the direct COPY (SQLSTATE 23505)');
    expect(why).toContain('the target refused the direct COPY (SQLSTATE 23514)');
    expect(why.filter((w) => /needs its rule checked in SQL/.test(w ?? ''))).toHaveLength(2);
  });
});
