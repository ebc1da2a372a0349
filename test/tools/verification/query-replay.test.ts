// Behavioural verification: queries replayed on real SQLite and MariaDB sources and on a real PostgreSQL target,
// compared after type and order normalisation; the target side passes the SQL allow-list for whole queries.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMapper } from '../../../agents/mapper.js';
import type { QueryConfig } from '../../../core/config.js';
import type { Plan } from '../../../core/plan.js';
import type { SourceConnector, TargetConnector } from '../../../connectors/connector.js';
import { openSource } from '../../../connectors/open-source.js';
import { openTarget } from '../../../connectors/open-target.js';
import { executePlan } from '../../../tools/execution/execute-plan.js';
import { checkSelectQuery } from '../../../tools/planning/expression-guard.js';
import { captureQueries, compareQueries, parseRecord, type QueryResultDigest } from '../../../tools/verification/query-replay.js';
import { createMysqlDatabase, createPgDatabase, pgExec, tempDir, type TempDatabase } from '../../fixtures/databases.js';
import { loadLibraryMysql, loadLibrarySqlite } from '../../fixtures/library-source.js';

const QUERIES: QueryConfig[] = [
  { name: 'books per author', source: 'SELECT author_id, count(*) AS n, sum(price) AS total FROM books GROUP BY author_id', ordered: false },
  { name: 'latest books', source: 'SELECT id, title, published_at FROM books ORDER BY id DESC LIMIT 5;', ordered: true },
  { name: 'stars', source: 'SELECT reviewer, avg(stars), max(stars) FROM reviews GROUP BY reviewer', ordered: false },
];

describe('query replay', () => {
  const dir = tempDir('sensei-v8-q-');
  let tgt: TempDatabase;
  let my: TempDatabase;
  let sqlite: SourceConnector;
  let mysql: SourceConnector;
  let target: TargetConnector;
  let plan: Plan;
  let captured: QueryResultDigest[];

  beforeAll(async () => {
    const path = join(dir.path, 'library.db');
    loadLibrarySqlite(path);
    tgt = await createPgDatabase('sensei_v8qtgt');
    my = await createMysqlDatabase('sensei_v8q');
    await loadLibraryMysql(my.url);
    sqlite = await openSource(`sqlite://${path}`);
    mysql = await openSource(my.url);
    target = await openTarget(tgt.url);
    const catalog = await sqlite.catalog({ withCounts: true });
    plan = (await createMapper().plan({ source: catalog, target, thresholds: { autoApproveAbove: 0.95, reviewAbove: 0.8 } })).plan;
    captured = await captureQueries(sqlite, QUERIES);
    await executePlan({ runId: 'q', source: sqlite, target, errors: { add: async () => undefined } }, plan, catalog);
  }, 120_000);

  afterAll(async () => {
    await sqlite?.close();
    await mysql?.close();
    await target?.close();
    await tgt?.drop();
    await my?.drop();
    dir.remove();
  });

  it('captures hashes and counts only, and MariaDB and SQLite answer the same questions identically', async () => {
    expect(captured.map((c) => [c.name, c.rows, c.error])).toEqual([
      ['books per author', 7, undefined],
      ['latest books', 5, undefined],
      ['stars', 3, undefined],
    ]);
    expect(await captureQueries(mysql, QUERIES)).toEqual(captured);
  });

  it('replays on the target: equal results pass', async () => {
    const check = await compareQueries(target, QUERIES, captured, plan, 'sqlite');
    expect(check).toEqual({ perspective: 'behavioral', check: 'replayed queries give the source results', passed: true, checked: 3, findings: [] });
  });

  it('finds a query whose answer changed, and only that one', async () => {
    await pgExec(tgt.url, 'UPDATE books SET price = price + 1 WHERE id = 3');
    try {
      const check = await compareQueries(target, QUERIES, captured, plan, 'sqlite');
      expect(check.findings).toEqual([
        { code: 'query_mismatch', path: ['queries', 'books per author'], query: 'books per author', expectedRows: 7, actualRows: 7, message: expect.stringContaining('answers differently') },
      ]);
    } finally {
      await pgExec(tgt.url, 'UPDATE books SET price = price - 1 WHERE id = 3');
    }
  });

  it('refuses what is not a plain read of the migrated tables, as findings', async () => {
    const bad: QueryConfig[] = [
      { name: 'writes', source: 'DELETE FROM books', ordered: false },
      { name: 'sleeps', source: 'SELECT 1', target: 'SELECT pg_sleep(1)', ordered: false },
      { name: 'catalog', source: 'SELECT 1', target: 'SELECT * FROM pg_catalog.pg_authid', ordered: false },
      { name: 'not captured', source: 'SELECT 1', ordered: false },
    ];
    const cap = await captureQueries(sqlite, bad.slice(0, 3));
    expect(cap[0]).toMatchObject({ name: 'writes', error: 'the source query is not a single SELECT' });
    const check = await compareQueries(target, bad, cap, plan, 'sqlite');
    expect(check.findings.map((f) => [f.code, f.path[1], f.message.match(/allow-list|no captured/)?.[0]])).toEqual([
      ['check_error', 'writes', 'no captured'],
      ['check_error', 'sleeps', 'allow-list'],
      ['check_error', 'catalog', 'allow-list'],
      ['check_error', 'not captured', 'no captured'],
    ]);
  });

  it('replays through a renamed target: the parser rewrites aliases, joins, subqueries, and equal columns stay apart', async () => {
    const odd: QueryConfig[] = [
      { name: 'same-named columns', source: 'SELECT b.id, a.id, b.title FROM books b JOIN authors a ON a.id = b.author_id', ordered: false },
      { name: 'correlated', source: 'SELECT title FROM books WHERE price > (SELECT avg(price) FROM books b2 WHERE b2.author_id = books.author_id) ORDER BY title', ordered: true },
      { name: 'star and derived table', source: 'SELECT * FROM (SELECT author_id, count(*) AS n FROM books GROUP BY author_id) AS d WHERE d.n >= 1', ordered: false },
      { name: 'two columns named x', source: 'SELECT b.isbn AS x, a.country AS x FROM books b JOIN authors a ON a.id = b.author_id', ordered: false },
    ];
    const fromSqlite = await captureQueries(sqlite, odd);
    expect(fromSqlite.map((c) => c.error)).toEqual([undefined, undefined, undefined, undefined]);
    expect(await captureQueries(mysql, odd)).toEqual(fromSqlite);
    await pgExec(tgt.url, 'ALTER TABLE books RENAME TO book_items; ALTER TABLE book_items RENAME COLUMN title TO book_title; ALTER TABLE authors RENAME COLUMN id TO author_no');
    try {
      const renamed: Plan = {
        ...plan,
        tables: plan.tables.map((t) => ({
          ...t,
          target: t.target === 'books' ? 'book_items' : t.target,
          columns: t.columns.map((c) => ({ ...c, targetColumn: t.source === 'books' && c.sourceColumn === 'title' ? 'book_title' : t.source === 'authors' && c.sourceColumn === 'id' ? 'author_no' : c.targetColumn })),
        })),
      };
      expect(await compareQueries(target, odd, fromSqlite, renamed, 'sqlite')).toMatchObject({ passed: true, checked: 4, findings: [] });
      expect(await compareQueries(target, odd, fromSqlite, renamed, 'mysql')).toMatchObject({ passed: true, findings: [] });
      // The same questions against the unrenamed mapping name tables that are gone: refused or failed, never passed.
      const stale = await compareQueries(target, odd, fromSqlite, plan, 'sqlite');
      expect(stale.passed).toBe(false);
      expect(stale.findings.map((f) => f.code)).toEqual(['check_error', 'check_error', 'check_error', 'check_error']);
      // A difference in the first of two same-named columns (the one a row object would lose) is found.
      await pgExec(tgt.url, "UPDATE book_items SET isbn = isbn || '~' WHERE id = 1");
      const changed = await compareQueries(target, odd, fromSqlite, renamed, 'sqlite');
      expect(changed.findings.map((f) => [f.code, f.path[1]])).toEqual([['query_mismatch', 'two columns named x']]);
    } finally {
      await pgExec(tgt.url, "UPDATE book_items SET isbn = rtrim(isbn, '~') WHERE id = 1");
      await pgExec(tgt.url, 'ALTER TABLE book_items RENAME COLUMN book_title TO title; ALTER TABLE book_items RENAME TO books; ALTER TABLE authors RENAME COLUMN author_no TO id');
    }
  });

  it('reports a query the rewrite cannot follow as a finding that says to give target:', async () => {
    const q: QueryConfig[] = [{ name: 'unknown column', source: 'SELECT nope FROM books', ordered: false }];
    const cap: QueryResultDigest[] = [{ name: 'unknown column', rows: 1, sha256: 'x' }];
    const check = await compareQueries(target, q, cap, plan, 'sqlite');
    expect(check.findings).toEqual([
      { code: 'query_rewrite_failed', path: ['queries', 'unknown column'], query: 'unknown column', message: expect.stringMatching(/the column nope is in no mapped table .* give queries\[\]\.target/) },
    ]);
    const noParser = await compareQueries(target, QUERIES.slice(0, 1), captured, plan, 'oracle');
    expect(noParser.findings[0]).toMatchObject({ code: 'query_rewrite_failed', message: expect.stringContaining('no parser for a oracle source') });
  });

  it('translates MariaDB and SQLite functions: replayed on PostgreSQL, every query gives the source result', async () => {
    const q = (name: string, source: string): QueryConfig => ({ name, source, ordered: false });
    const mysqlQueries = [
      q('ifnull and if', "SELECT id, IFNULL(price, 0), IF(price > 50, 'dear', 'cheap'), IF(author_id - 1, 'other', 'first') FROM books"),
      // Books without a price make CONCAT NULL in MariaDB: the translation keeps that.
      q('concat', "SELECT id, CONCAT(title, ' / ', price, ' / ', id), CONCAT_WS('|', id, isbn) FROM books"),
      q('lengths', 'SELECT id, LENGTH(title), CHAR_LENGTH(title), SUBSTRING(title, 3, 5), SUBSTR(title, 6), MID(isbn, 5, 3) FROM books'),
      q('case', 'SELECT DISTINCT LCASE(reviewer), UCASE(reviewer) FROM reviews'),
      q('dates', "SELECT id, DATE_FORMAT(published_at, '%Y-%m-%d %H:%i:%s'), DATE_FORMAT(published_at, '%e %M %Y, %k h'), YEAR(published_at), MONTH(published_at) FROM books"),
      q('now', 'SELECT count(*) FROM books WHERE published_at < NOW() AND published_at < CURDATE() AND published_at < CURRENT_DATE'),
      q('cast', 'SELECT CAST(id AS CHAR), CAST(title AS CHAR(6)) FROM books'),
    ];
    const fromMysql = await captureQueries(mysql, mysqlQueries);
    expect(fromMysql.map((c) => c.error ?? null)).toEqual(mysqlQueries.map(() => null));
    expect(await compareQueries(target, mysqlQueries, fromMysql, plan, 'mysql')).toMatchObject({ passed: true, checked: mysqlQueries.length, findings: [] });

    const sqliteQueries = [
      q('ifnull and substr', "SELECT id, ifnull(isbn, 'none'), substr(title, 2, 5), substr(title, 4), length(title) FROM books"),
      q('pipes', "SELECT id, title || ' (' || isbn || ')', lower(reviewer) || '!' FROM books JOIN reviews ON reviews.book_id = books.id"),
    ];
    const fromSqlite = await captureQueries(sqlite, sqliteQueries);
    expect(fromSqlite.map((c) => c.error ?? null)).toEqual([null, null]);
    expect(await compareQueries(target, sqliteQueries, fromSqlite, plan, 'sqlite')).toMatchObject({ passed: true, findings: [] });

    // What has no exact translation is a finding naming the function, on both dialects.
    const odd = [q('soundex', 'SELECT SOUNDEX(title) FROM books'), q('strftime', "SELECT strftime('%Y', published_at) FROM books")];
    const oddMysql = await compareQueries(target, odd.slice(0, 1), await captureQueries(mysql, odd.slice(0, 1)), plan, 'mysql');
    const oddSqlite = await compareQueries(target, odd.slice(1), await captureQueries(sqlite, odd.slice(1)), plan, 'sqlite');
    expect([...oddMysql.findings, ...oddSqlite.findings].map((f) => [f.code, f.message.match(/the function \w+ \([^)]+\)/)?.[0]])).toEqual([
      ['query_rewrite_failed', 'the function SOUNDEX (MySQL/MariaDB)'],
      ['query_rewrite_failed', 'the function STRFTIME (SQLite)'],
    ]);
  });

  it('reads PostgreSQL record text field by field', () => {
    expect(parseRecord('(1,,"a ""b"", c","x\\\\y",)')).toEqual(['1', null, 'a "b", c', 'x\\y', null]);
    expect(parseRecord('("")')).toEqual(['']);
    expect(() => parseRecord('1,2')).toThrow('not a record');
  });

  it('allows CTEs and aggregates over migrated tables only', async () => {
    expect((await checkSelectQuery('WITH x AS (SELECT id FROM books) SELECT count(*) FROM x', ['books'])).ok).toBe(true);
    expect(await checkSelectQuery('SELECT * FROM secrets', ['books'])).toMatchObject({ ok: false, reason: 'the table secrets is not one of the migrated tables' });
    expect(await checkSelectQuery('SELECT id FROM books FOR UPDATE', ['books'])).toMatchObject({ ok: false });
    expect(await checkSelectQuery('SELECT 1; SELECT 2', ['books'])).toMatchObject({ ok: false });
  });
});
