// Behavioural replay of MariaDB queries whose meaning PostgreSQL reads otherwise: decimal division, DIV/MOD, casts to
// SIGNED/UNSIGNED/DECIMAL, and case-insensitive collations. Each query is captured on a real MariaDB, rewritten and
// replayed on a real PostgreSQL holding the migrated rows; what cannot be reproduced must be a named finding.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMapper } from '../../../agents/mapper.js';
import type { Catalog } from '../../../core/catalog.js';
import type { QueryConfig } from '../../../core/config.js';
import type { Plan } from '../../../core/plan.js';
import type { SourceConnector, TargetConnector } from '../../../connectors/connector.js';
import { openSource } from '../../../connectors/open-source.js';
import { openTarget } from '../../../connectors/open-target.js';
import { executePlan } from '../../../tools/execution/execute-plan.js';
import { captureQueries, compareQueries } from '../../../tools/verification/query-replay.js';
import { createMysqlDatabase, createPgDatabase, mysqlExec, type TempDatabase } from '../../fixtures/databases.js';

const PEOPLE = `
CREATE TABLE people (
  id INT NOT NULL PRIMARY KEY,
  name VARCHAR(40) COLLATE utf8mb4_general_ci NOT NULL,
  city VARCHAR(40) COLLATE utf8mb4_general_ci,
  nick VARCHAR(40) COLLATE utf8mb4_general_ci,
  code VARCHAR(10) COLLATE utf8mb4_bin,
  qty INT,
  price DECIMAL(8,2),
  ratio DOUBLE
) DEFAULT CHARSET utf8mb4;
INSERT INTO people VALUES
  (1, 'Georgi', 'Sofia', 'jose', 'AB', 7, 2.50, 2.5),
  (2, 'georgi ', 'Paris', 'José', 'ab', 1, 1.00, -2.5),
  (3, 'Anna', 'Sofia', 'anna', 'Cd', 0, 3.33, 3.5),
  (4, 'Bob', 'Lyon', NULL, 'x', -7, -1.25, 0.1),
  (5, 'GEORGI', 'Paris', 'bo', 'AB', 10, 100.05, -3.5),
  (6, 'Zed', NULL, NULL, NULL, NULL, NULL, NULL),
  (7, 'anna', 'Lyon', 'an', 'Q', 3, 0.10, 1000),
  (8, 'Carl', 'Sofia', 'c', 'q', -1, 24.69, 0.49995);
`;

const q = (name: string, source: string, ordered = false): QueryConfig => ({ name, source, ordered });

describe('query translation on replay (MariaDB → PostgreSQL)', () => {
  let my: TempDatabase;
  let tgt: TempDatabase;
  let mysql: SourceConnector;
  let target: TargetConnector;
  let catalog: Catalog;
  let plan: Plan;

  beforeAll(async () => {
    my = await createMysqlDatabase('sensei_qt');
    tgt = await createPgDatabase('sensei_qttgt');
    await mysqlExec(my.url, PEOPLE);
    mysql = await openSource(my.url);
    target = await openTarget(tgt.url);
    catalog = await mysql.catalog({ withCounts: true });
    plan = (await createMapper().plan({ source: catalog, target, thresholds: { autoApproveAbove: 0.95, reviewAbove: 0.8 } })).plan;
    await executePlan({ runId: 'qt', source: mysql, target, errors: { add: async () => undefined } }, plan, catalog);
  }, 120_000);

  afterAll(async () => {
    await mysql?.close();
    await target?.close();
    await my?.drop();
    await tgt?.drop();
  });

  /** Captures on MariaDB (every query must run there) and replays on PostgreSQL. */
  async function replay(queries: QueryConfig[], withCatalog = true) {
    const captured = await captureQueries(mysql, queries);
    expect(captured.map((c) => c.error ?? null)).toEqual(queries.map(() => null));
    return compareQueries(target, queries, captured, plan, 'mysql', withCatalog ? catalog : undefined);
  }

  it('reads the source collation of each text column, and plans the types the translation relies on', () => {
    const people = catalog.tables.find((t) => t.name === 'people')!;
    expect(people.columns.map((c) => [c.name, c.collation ?? null])).toEqual([
      ['id', null], ['name', 'utf8mb4_general_ci'], ['city', 'utf8mb4_general_ci'], ['nick', 'utf8mb4_general_ci'], ['code', 'utf8mb4_bin'], ['qty', null], ['price', null], ['ratio', null],
    ]);
    const types = Object.fromEntries(plan.tables[0]!.columns.map((c) => [c.sourceColumn, c.targetType]));
    expect(types).toMatchObject({ qty: 'integer', price: 'numeric(8,2)', ratio: 'double precision' });
  });

  it('division gives MySQL\'s decimal quotient: scale, hidden digits, rounding where the value leaves the arithmetic, NULL for /0', async () => {
    const check = await replay([
      q('division', 'SELECT id, qty / 3, price / qty, qty / 0, 7 / 2, 1 / 3 * 3, (qty / 3) / 3, price / 3, ratio / 4, CAST(qty / 7 AS DECIMAL(20,10)) FROM people'),
      q('quotient aggregates', 'SELECT avg(qty), avg(price), sum(price) / count(*), sum(qty / 3), max(qty / 3), avg(ratio) FROM people'),
      // 7/3 is 2.333333333 inside MySQL but compares as 2.3333: not greater than 2.3333.
      q('quotient compared', 'SELECT id FROM people WHERE qty / 3 > 2.3333 OR price / 3 = 0.833333'),
      q('quotient grouped', 'SELECT qty / 4 AS g, count(*) FROM people GROUP BY qty / 4'),
      q('quotient in IF and CASE', "SELECT id, IF(qty > 0, qty / 3, -1) * 3, CASE WHEN price > 1 THEN price / 7 ELSE 0 END FROM people"),
    ]);
    expect(check).toMatchObject({ passed: true, checked: 5, findings: [] });
  });

  it('DIV truncates toward zero, % and MOD keep the dividend\'s sign, and a zero divisor gives NULL', async () => {
    const check = await replay([
      q('div and mod', 'SELECT id, qty DIV 2, -qty DIV 2, price DIV 2, qty DIV 0, price DIV qty, qty % 3, -qty % 3, MOD(price, 2), qty MOD 0, MOD(ratio, 2) FROM people'),
    ]);
    expect(check).toMatchObject({ passed: true, findings: [] });
  });

  it('CAST/CONVERT to SIGNED, UNSIGNED and DECIMAL(p,s) give MySQL\'s values, a DECIMAL out of range clamped as MySQL clamps it', async () => {
    const check = await replay([
      q('casts', 'SELECT id, CAST(price AS SIGNED), CAST(-price AS SIGNED INTEGER), CAST(ratio AS SIGNED), CAST(qty - 5 AS UNSIGNED), CAST(price AS DECIMAL(6,1)), CAST(price AS DECIMAL(3,1)), CAST(-price AS DECIMAL(3,2)), CONVERT(price, DECIMAL), CONVERT(qty, SIGNED), CAST(qty / 7 AS DECIMAL(10,3)) FROM people'),
    ]);
    expect(check).toMatchObject({ passed: true, findings: [] });
  });

  it('names what it cannot reproduce instead of replaying a different answer', async () => {
    const check = await replay([
      q('signed text', 'SELECT CAST(name AS SIGNED) FROM people'),
      q('unsigned decimal', 'SELECT CAST(price AS UNSIGNED) FROM people'),
      q('text quotient', 'SELECT name / 2 FROM people'),
      q('decimal quotient in a double', 'SELECT qty / 3 + ratio FROM people'),
    ]);
    expect(check.findings.map((f) => [f.code, f.path[1]])).toEqual([
      ['query_rewrite_failed', 'signed text'],
      ['query_rewrite_failed', 'unsigned decimal'],
      ['query_rewrite_failed', 'text quotient'],
      ['query_rewrite_failed', 'decimal quotient in a double'],
    ]);
    const messages = check.findings.map((f) => f.message);
    expect(messages[0]).toMatch(/CAST\(… AS SIGNED\) of the column name \(MySQL\/MariaDB\) has no exact PostgreSQL translation: only numeric operands/);
    expect(messages[1]).toMatch(/CAST\(… AS UNSIGNED\) of the column price .*only integer operands/);
    expect(messages[2]).toMatch(/the operator \/ over the column name .*decimal scale/);
    expect(messages[3]).toMatch(/mixing a decimal quotient with floating point/);
  });

  const COLLATED = [
    // 'georgi ' matches too: the collation pads with spaces.
    q('ci equality', "SELECT id FROM people WHERE name = 'georgi'"),
    q('ci IN and <>', "SELECT id FROM people WHERE name IN ('ANNA', 'bob') AND city <> 'LYON'"),
    q('ci LIKE', "SELECT id FROM people WHERE name LIKE 'g%' AND city NOT LIKE 's%'"),
    q('ci join', 'SELECT a.id, b.id FROM people a JOIN people b ON a.name = b.name AND a.id < b.id'),
    q('ci group without variants', 'SELECT city, count(*) FROM people GROUP BY city'),
    q('ci distinct without variants', 'SELECT DISTINCT city FROM people'),
    q('binary collation kept', "SELECT id FROM people WHERE code = 'ab'"),
    q('order that does not reach the result', "SELECT id FROM people WHERE name = 'GEORGI' ORDER BY name"),
    // Through a derived table and a CTE: the column keeps its collation (and its type, for the quotient).
    q('ci through a derived table', "SELECT d.id, d.qty / 3 FROM (SELECT id, name, qty FROM people) d WHERE d.name = 'georgi'"),
    q('ci through a CTE', "WITH p AS (SELECT id, city AS town FROM people) SELECT town, count(*) FROM p WHERE town IN ('paris', 'SOFIA') GROUP BY town"),
  ];

  it('compares case-insensitive columns case-insensitively (lower(), ILIKE), and groups them when no values fold together', async () => {
    expect(await replay(COLLATED)).toMatchObject({ passed: true, checked: COLLATED.length, findings: [] });
    // Without the source catalog the collation is unknown: the same questions answer differently (the gap this closes).
    const blind = await replay(COLLATED.slice(0, 4), false);
    expect(blind.findings.map((f) => [f.code, f.path[1]])).toEqual(COLLATED.slice(0, 4).map((c) => ['query_mismatch', c.name]));
  });

  it('names the query, table and column when the result depends on the collation beyond what folding reproduces', async () => {
    const check = await replay([
      q('group with case variants', 'SELECT name, count(*) FROM people GROUP BY name'),
      q('distinct with case variants', 'SELECT DISTINCT name FROM people'),
      q('group by alias with case variants', 'SELECT name AS n, count(*) FROM people GROUP BY n'),
      q('group through a derived table', 'SELECT n, count(*) FROM (SELECT name AS n FROM people) d GROUP BY n'),
      q('equality over accented data', "SELECT id FROM people WHERE nick = 'jose'"),
      q('order with limit', 'SELECT id, name FROM people ORDER BY name LIMIT 3'),
      q('ordered result', 'SELECT name FROM people ORDER BY name', true),
      q('max of text', 'SELECT max(name) FROM people'),
      q('range over text', "SELECT id FROM people WHERE name > 'b'"),
      q('accented literal', "SELECT id FROM people WHERE name = 'Zéd'"),
    ]);
    expect(check.passed).toBe(false);
    expect(check.findings.map((f) => (f.code === 'query_collation_differs' ? [f.query, f.table, f.column] : [f.code, f.path[1]]))).toEqual([
      ['group with case variants', 'people', 'name'],
      ['distinct with case variants', 'people', 'name'],
      ['group by alias with case variants', 'people', 'name'],
      ['group through a derived table', 'people', 'name'],
      ['equality over accented data', 'people', 'nick'],
      ['order with limit', 'people', 'name'],
      ['ordered result', 'people', 'name'],
      ['max of text', 'people', 'name'],
      ['range over text', 'people', 'name'],
      ['accented literal', 'people', 'name'],
    ]);
    expect(check.findings.every((f) => f.code === 'query_collation_differs')).toBe(true);
    expect(check.findings[0]!.message).toMatch(/groups or makes distinct people\.name, case-insensitive on the source, and the target column people\.name holds values that differ only in case or trailing spaces/);
    expect(check.findings[4]!.message).toMatch(/holds non-ASCII text/);
    expect(check.findings[5]!.message).toMatch(/ORDER BY over people\.name \(collation utf8mb4_general_ci\)/);
    // Never a value in a finding.
    expect(JSON.stringify(check.findings)).not.toMatch(/Georgi|José|Zed/i);
  });
});
