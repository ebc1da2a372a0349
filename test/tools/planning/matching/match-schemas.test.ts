import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Catalog, ColumnDef, LogicalType, TableDef } from '../../../../core/catalog.js';
import type { TargetConnector } from '../../../../connectors/connector.js';
import { openTarget } from '../../../../connectors/open-target.js';
import { allMappings } from '../../../../core/plan.js';
import { buildPlan } from '../../../../tools/planning/build-plan.js';
import { checkExpression } from '../../../../tools/planning/expression-guard.js';
import { hungarian } from '../../../../tools/planning/matching/hungarian.js';
import { matchSchemas } from '../../../../tools/planning/matching/match-schemas.js';
import { codeTranslation, columnKey, detectFormat } from '../../../../tools/planning/matching/value-evidence.js';

const text = (n?: number): LogicalType => (n ? { kind: 'varchar', length: n } : { kind: 'text' });
const int: LogicalType = { kind: 'int32' };
const col = (name: string, logicalType: LogicalType, i: number, declaredType = 'text', nullable = true): ColumnDef => ({
  name,
  declaredType,
  logicalType,
  nullable,
  defaultValue: null,
  ordinal: i + 1,
  isGenerated: false,
});
const table = (name: string, cols: Array<[string, LogicalType, string?, boolean?]>, pk: string[] = [], fks: TableDef['foreignKeys'] = []): TableDef => ({
  schema: 's',
  name,
  columns: cols.map(([n, t, d, nullable], i) => col(n, t, i, d ?? 'text', nullable ?? true)),
  primaryKey: pk,
  foreignKeys: fks,
  uniques: [],
  rowCount: null,
});
const thresholds = { autoApproveAbove: 0.95, reviewAbove: 0.8 };

const legacy: Catalog = {
  dialect: 'sqlite',
  database: 'legacy',
  tables: [
    table('DEPT', [['DEPT_CD', text(4)], ['DEPT_NAME', text(40)]], ['DEPT_CD']),
    table(
      'EMP',
      [['EMP_NO', int], ['EMP_FNM', text(40)], ['EMP_LNM', text(40)], ['HIRE_DT', text(10)], ['TERM_FLG', { kind: 'char', length: 1 }], ['DEPT_CD', text(4)], ['SAL_CENTS', int]],
      ['EMP_NO'],
      [{ name: 'fk_dept', columns: ['DEPT_CD'], refTable: 'DEPT', refColumns: ['DEPT_CD'] }],
    ),
  ],
};
const modern: Catalog = {
  dialect: 'postgres',
  database: 'hr',
  tables: [
    table('employees', [
      ['employee_id', int, 'integer', false], ['first_name', text(40), 'character varying(40)'], ['last_name', text(40), 'character varying(40)'],
      ['hired_on', { kind: 'date' }, 'date'], ['is_terminated', { kind: 'boolean' }, 'boolean'], ['department_code', text(4), 'character varying(4)'],
      ['salary', { kind: 'decimal', precision: 12, scale: 2 }, 'numeric(12,2)'], ['nickname', text(), 'text'],
    ], ['employee_id'], [{ name: 'fk', columns: ['department_code'], refTable: 'departments', refColumns: ['code'] }]),
    table('departments', [['code', text(4), 'character varying(4)', false], ['name', text(40), 'character varying(40)']], ['code']),
  ],
};
const samples = new Map<string, string[]>([
  [columnKey('EMP', 'HIRE_DT'), ['16/12/2018', '11/01/2006', '02/10/2007']],
  [columnKey('EMP', 'TERM_FLG'), ['Y', 'N']],
]);

describe('matchSchemas on a legacy schema with abbreviated names', () => {
  const plan = buildPlan({ source: legacy, target: modern, targetSchemaSource: 'ddl-file', thresholds, sourceSamples: samples });
  const by = Object.fromEntries(allMappings(plan).map((m) => [`${m.sourceTable}.${m.sourceColumn}`, m]));

  it('pairs tables through the dictionary and orders the load by foreign keys', () => {
    expect(plan.tables.map((t) => [t.source, t.target])).toEqual([['DEPT', 'departments'], ['EMP', 'employees']]);
    expect(plan.phases).toEqual([['departments'], ['employees']]);
  });

  it('maps every column to its true counterpart and leaves the rest unmapped on both sides', () => {
    expect(Object.fromEntries(Object.entries(by).map(([k, m]) => [k, `${m.targetTable}.${m.targetColumn}`]))).toEqual({
      'DEPT.DEPT_CD': 'departments.code',
      'DEPT.DEPT_NAME': 'departments.name',
      'EMP.EMP_NO': 'employees.employee_id',
      'EMP.EMP_FNM': 'employees.first_name',
      'EMP.EMP_LNM': 'employees.last_name',
      'EMP.HIRE_DT': 'employees.hired_on',
      'EMP.TERM_FLG': 'employees.is_terminated',
      'EMP.DEPT_CD': 'employees.department_code',
      'EMP.SAL_CENTS': 'employees.salary',
    });
    expect(plan.unmappedTarget).toEqual(['employees.nickname']);
    expect(plan.unmappedSource).toEqual([]);
  });

  it('auto-approves only names that the dictionary resolves fully; weaker evidence goes to review or explicit', () => {
    expect(by['EMP.EMP_FNM']).toMatchObject({ band: 'auto', origin: 'heuristic' });
    expect(by['EMP.DEPT_CD']!.rationale).toContain('both reference matched tables (DEPT → departments)');
    expect(by['EMP.EMP_NO']!.band).not.toBe('auto');
    expect(by['EMP.HIRE_DT']!.band).not.toBe('auto');
  });

  it('derives transformations from the detected formats and the names', () => {
    expect(by['EMP.HIRE_DT']!.transformation).toBe(`CAST(to_date(btrim(src."HIRE_DT"), 'DD/MM/YYYY') AS date)`);
    expect(by['EMP.HIRE_DT']!.validationRules.map((r) => r.rule)).toEqual(['date_format']);
    expect(by['EMP.TERM_FLG']!.transformation).toBe(`CASE upper(btrim(src."TERM_FLG")) WHEN 'Y' THEN true WHEN 'N' THEN false END`);
    expect(by['EMP.SAL_CENTS']!.transformation).toBe('CAST(CAST(src."SAL_CENTS" AS numeric) / 100 AS numeric(12,2))');
    expect(by['EMP.EMP_FNM']!.validationRules.map((r) => r.rule)).toEqual(['max_length']);
    expect(by['DEPT.DEPT_CD']!.validationRules.map((r) => r.rule)).toEqual(['not_null', 'max_length', 'unique']);
    expect(by['EMP.DEPT_CD']!.validationRules.map((r) => r.rule)).toEqual(['max_length', 'fk']);
  });

  it('writes only SQL the allow-list accepts', async () => {
    for (const m of allMappings(plan)) {
      const allowedColumns = [m.sourceColumn];
      expect(await checkExpression(m.transformation, { allowedColumns })).toMatchObject({ ok: true });
      for (const r of m.validationRules) expect(await checkExpression(r.predicate, { allowedColumns })).toMatchObject({ ok: true });
    }
  });

  describe('and the SQL runs on a real PostgreSQL (PGlite)', () => {
    let db: TargetConnector;
    beforeAll(async () => {
      db = await openTarget('pglite://memory');
      await db.query(`CREATE TABLE src ("HIRE_DT" text, "TERM_FLG" text, "SAL_CENTS" text)`);
      await db.query(`INSERT INTO src VALUES ('16/12/2018', 'Y', '160484'), ('29/02/2021', 'x', 'abc'), (NULL, 'n', NULL)`);
    });
    afterAll(() => db.close());

    it('converts good values and the rules catch the bad ones before a cast fails', async () => {
      const exprs = ['HIRE_DT', 'TERM_FLG', 'SAL_CENTS'].map((c) => by[`EMP.${c}`]!);
      const rules = exprs.flatMap((m) => m.validationRules.map((r) => r.predicate));
      const ok = await db.query<Record<string, unknown>>(
        `SELECT ${exprs.map((m, i) => `${m.transformation} AS c${i}`).join(', ')} FROM src WHERE ${rules.join(' AND ')}`,
      );
      expect(ok.rows.map((r) => [r.c0, r.c1, r.c2])).toEqual([
        ['2018-12-16', 't', '1604.84'],
        [null, 'f', null],
      ]);
      const rejected = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM src WHERE NOT (${rules.join(' AND ')})`);
      expect(Number(rejected.rows[0]!.n)).toBe(1);
    });
  });
});

describe('matchSchemas with data', () => {
  const source: Catalog = { dialect: 'csv', database: 's', tables: [table('stores', [['stor_id', text()], ['stor_name', text()], ['city', text()]])] };
  const target: Catalog = { dialect: 'csv', database: 't', tables: [table('target_stores', [['qwxz', text()], ['plmk', text()], ['zzyq', text()]])] };
  const cities = ['Seattle', 'Tustin', 'Los Gatos', 'Remulade', 'Fremont', 'Portland'];
  const names = ['Eric the Read Books', "Barnum's", 'News & Brews', 'Doc-U-Mat', 'Fricative Bookshop', 'Bookbeat'];
  const ids = ['6380', '7066', '7067', '7131', '7896', '8042'];
  const src = new Map([[columnKey('stores', 'stor_id'), ids], [columnKey('stores', 'stor_name'), names], [columnKey('stores', 'city'), cities]]);
  const tgt = new Map([[columnKey('target_stores', 'qwxz'), cities], [columnKey('target_stores', 'plmk'), ids], [columnKey('target_stores', 'zzyq'), names]]);

  it('matches meaningless target names by value overlap, but never auto-approves data-only evidence', () => {
    const r = matchSchemas({ source, target, sourceSamples: src, targetSamples: tgt });
    const cols = r.tables[0]!.columns.map((c) => [c.source.name, c.target.name, c.confidence <= 0.95]);
    expect(cols).toEqual([['stor_id', 'plmk', true], ['stor_name', 'zzyq', true], ['city', 'qwxz', true]]);
  });

  it('translates codes spelled differently on each side through a literal CASE that the allow-list accepts', async () => {
    const people: Catalog = { dialect: 'csv', database: 's', tables: [table('person', [['name', text()], ['genderLabel', text()]])] };
    const persons: Catalog = { dialect: 'csv', database: 't', tables: [table('persons', [['name', text()], ['genderType', text(1), 'character varying(1)']])] };
    const plan = buildPlan({
      source: people,
      target: persons,
      targetSchemaSource: 'existing',
      thresholds,
      sourceSamples: new Map([[columnKey('person', 'genderLabel'), ['male', 'female']], [columnKey('person', 'name'), ['Ada', 'Alan', 'Grace']]]),
      targetSamples: new Map([[columnKey('persons', 'genderType'), ['m', 'f']], [columnKey('persons', 'name'), ['Ada', 'Alan', 'Grace']]]),
    });
    const m = allMappings(plan).find((x) => x.sourceColumn === 'genderLabel')!;
    expect(m).toMatchObject({ targetColumn: 'genderType', transformation: `CAST(CASE btrim(src."genderLabel") WHEN 'male' THEN 'm' WHEN 'female' THEN 'f' END AS character varying(1))` });
    expect(m.rationale).toContain('codes translate one to one (male→m, female→f)');
    expect(m.validationRules.map((r) => r.rule)).toEqual(['code_translation']);
    expect(await checkExpression(m.transformation, { allowedColumns: ['genderLabel'] })).toMatchObject({ ok: true });
  });

  it('does not invent a translation when codes pair up ambiguously', () => {
    expect(codeTranslation(['male', 'female'], ['m', 'f'])).toEqual(new Map([['male', 'm'], ['female', 'f']]));
    expect(codeTranslation(['ma', 'mb'], ['m', 'x'])).toBeUndefined();
    expect(codeTranslation(['A', 'B'], ['a', 'b'])).toBeUndefined();
  });

  it('proposes nothing when neither names nor values agree', () => {
    const r = matchSchemas({ source, target, sourceSamples: src, targetSamples: new Map() });
    expect(r.tables[0]!.columns).toEqual([]);
  });

  it('uses a pattern-library hit before heuristics and says so', () => {
    const hit = {
      id: 'p1', score: 0.97, sourceTable: 'SHOPS', sourceColumn: 'TOWN', semanticType: 'city', targetTable: 'target_stores', targetColumn: 'qwxz',
      transformation: 'btrim({{col}})', provenance: { runId: 'run_1', approvedBy: 'ana', at: '2026-01-01T00:00:00Z' },
    };
    const r = matchSchemas({ source, target, patternHits: new Map([[columnKey('stores', 'city'), [hit]]]) });
    expect(r.tables[0]!.columns.map((c) => [c.source.name, c.target.name, c.origin, c.confidence])).toEqual([['city', 'qwxz', 'pattern', 0.97]]);
    expect(r.tables[0]!.columns[0]!.reasons[0]).toContain('pattern library: approved before by ana');
  });
});

describe('matchSchemas with merged and ambiguous targets', () => {
  it('maps several source tables into one denormalised target table and warns about it', () => {
    const source: Catalog = {
      dialect: 'csv', database: 's', tables: [
        table('authors', [['au_id', text()], ['au_lname', text()], ['phone', text()]]),
        table('publishers', [['pub_id', text()], ['pub_name', text()], ['country', text()]]),
      ],
    };
    const target: Catalog = { dialect: 'csv', database: 't', tables: [table('everything', [['au_id', text()], ['au_lname', text()], ['phone', text()], ['pub_id', text()], ['pub_name', text()], ['country', text()]])] };
    const plan = buildPlan({ source, target, targetSchemaSource: 'existing', thresholds });
    expect(plan.tables.map((t) => [t.source, t.target, t.columns.length])).toEqual([['authors', 'everything', 3], ['publishers', 'everything', 3]]);
    expect(plan.phases).toEqual([['everything']]);
    expect(plan.warnings.filter((w) => w.includes('merged'))).toHaveLength(2);
  });

  it('keeps a pair out of auto when another column is named just as closely', () => {
    const source: Catalog = { dialect: 'csv', database: 's', tables: [table('stores', [['city', text()]])] };
    const target: Catalog = { dialect: 'csv', database: 't', tables: [table('stores', [['city_x', text()], ['city_y', text()]])] };
    const m = matchSchemas({ source, target }).tables[0]!.columns[0]!;
    expect(m.confidence).toBeLessThanOrEqual(0.95);
    expect(m.reasons.join(' ')).toMatch(/competing pair|as close/);
  });

  describe('copies of one name in a merged target (city, city_x, city_y)', () => {
    const source: Catalog = {
      dialect: 'csv', database: 's', tables: [
        table('authors', [['au_id', text()], ['city', text()]]),
        table('stores', [['stor_id', text()], ['city', text()]]),
        table('publishers', [['pub_id', text()], ['city', text()]]),
      ],
    };
    const target: Catalog = {
      dialect: 'csv', database: 't',
      tables: [table('joined', [['stor_id', text()], ['city_x', text()], ['au_id', text()], ['city_y', text()], ['pub_id', text()], ['city', text()]])],
    };
    const src = new Map([
      [columnKey('authors', 'city'), ['Oakland', 'Berkeley', 'San Jose', 'Menlo Park', 'Lawrence', 'Gary', 'Nashville']],
      [columnKey('stores', 'city'), ['Seattle', 'Tustin', 'Los Gatos', 'Remulade', 'Fremont', 'Portland']],
      [columnKey('publishers', 'city'), ['Boston', 'Washington', 'Berkeley', 'Chicago', 'Dallas', 'New York']],
    ]);
    const by = (r: ReturnType<typeof matchSchemas>): Record<string, string> =>
      Object.fromEntries(r.tables.flatMap((t) => t.columns.map((c) => [`${t.source.name}.${c.source.name}`, c.target.name])));

    it('are given to the source tables one to one by their values (the copies hold only values of their source), in review', () => {
      // A join keeps a subset of each side's rows: every copy holds a few of its source's values, and only those.
      const tgt = new Map([
        [columnKey('joined', 'city_x'), ['Seattle', 'Portland', 'Fremont']],
        [columnKey('joined', 'city_y'), ['Oakland', 'Berkeley', 'Gary']],
        [columnKey('joined', 'city'), ['Boston', 'Washington']],
      ]);
      const r = matchSchemas({ source, target, sourceSamples: src, targetSamples: tgt });
      expect(by(r)).toMatchObject({ 'authors.city': 'city_y', 'stores.city': 'city_x', 'publishers.city': 'city' });
      const cities = r.tables.flatMap((t) => t.columns.filter((c) => c.source.name === 'city'));
      expect(cities.every((c) => c.confidence <= 0.95)).toBe(true);
    });

    it('a copy holding values its claimant never has goes to the claimant that has them', () => {
      // products.rate's values all appear in rate_y too (containment 100% both ways for products), so products alone
      // would take rate_y; but rate_y also holds 18/20/22, which only schedules has.
      const rates: Catalog = { dialect: 'csv', database: 's', tables: [table('products', [['sku', text()], ['rate', int]]), table('schedules', [['sku', text()], ['rate', int]])] };
      const joined: Catalog = { dialect: 'csv', database: 't', tables: [table('joined', [['sku', text()], ['rate_x', int, 'integer'], ['rate_y', int, 'integer']])] };
      const r = matchSchemas({
        source: rates,
        target: joined,
        sourceSamples: new Map([[columnKey('products', 'rate'), ['10', '12', '14', '16', '24']], [columnKey('schedules', 'rate'), ['10', '12', '14', '16', '18', '20', '22', '24']]]),
        targetSamples: new Map([[columnKey('joined', 'rate_x'), ['10', '12', '24']], [columnKey('joined', 'rate_y'), ['10', '12', '14', '16', '18', '20', '22', '24']]]),
      });
      expect(by(r)).toMatchObject({ 'products.rate': 'rate_x', 'schedules.rate': 'rate_y' });
      const moved = r.tables[0]!.columns.find((c) => c.source.name === 'rate')!;
      expect(moved.reasons.at(-1)).toContain('rate_x, rate_y are copies of one name in a merged table');
      expect(moved.confidence).toBeLessThanOrEqual(0.95);
    });

    it('without data nothing can tell the copies apart: each stays in review or below, never auto', () => {
      const r = matchSchemas({ source, target });
      const cities = r.tables.flatMap((t) => t.columns.filter((c) => c.source.name === 'city'));
      expect(new Set(cities.map((c) => c.target.name)).size).toBe(cities.length);
      expect(cities.every((c) => c.confidence <= 0.95)).toBe(true);
    });

    it('leaves a shared column alone when more source tables claim it than it has copies (a join key)', () => {
      const keys: Catalog = { dialect: 'csv', database: 's', tables: [table('sales', [['stor_id', text()]]), table('discounts', [['stor_id', text()]]), table('stores', [['stor_id', text()]])] };
      const joined: Catalog = { dialect: 'csv', database: 't', tables: [table('joined', [['stor_id', text()], ['stor_id_2', text()]])] };
      const r = matchSchemas({ source: keys, target: joined });
      expect(r.tables.map((t) => t.columns.map((c) => c.target.name))).toEqual([['stor_id'], ['stor_id'], ['stor_id']]);
    });
  });
});

describe('hungarian', () => {
  it('finds the assignment with the best total, where greedy would not', () => {
    // Greedy takes (0,0)=0.9 and then (1,1)=0.1; the optimum is (0,1)+(1,0) = 1.6.
    expect(hungarian([[0.9, 0.8], [0.8, 0.1]])).toEqual([1, 0]);
  });
  it('handles rectangles and leaves rows below the minimum unassigned', () => {
    expect(hungarian([[0.9, 0.2, 0.1]], 0.5)).toEqual([0]);
    expect(hungarian([[0.1], [0.9], [0.3]], 0.5)).toEqual([-1, 0, -1]);
    expect(hungarian([])).toEqual([]);
  });
});

describe('detectFormat', () => {
  it.each([
    [['20240131', '19780202'], { kind: 'date', format: 'YYYYMMDD' }],
    [['31/01/2024', '02/02/1978'], { kind: 'date', format: 'DD/MM/YYYY' }],
    [['01/31/2024', '02/02/1978'], { kind: 'date', format: 'MM/DD/YYYY' }],
    [['A', 'I', 'A'], { kind: 'flag', format: 'A/I', trueValue: 'A', falseValue: 'I' }],
    [['y', 'n'], { kind: 'flag', format: 'y/n', trueValue: 'y', falseValue: 'n' }],
  ])('%j', (values, expected) => {
    expect(detectFormat(values)).toEqual(expected);
  });
  it('rejects impossible dates and mixed shapes', () => {
    expect(detectFormat(['20240231'])).toBeUndefined();
    expect(detectFormat(['20240131', 'tomorrow'])).toBeUndefined();
    expect(detectFormat(['Y'])).toBeUndefined();
    expect(detectFormat([])).toBeUndefined();
  });
});
