// Query rewriting for behavioural replay: names renamed in a real parser's AST through the mapping, per dialect, and
// every query the rewrite cannot follow refused with its reason. The rewritten SQL must pass the SQL allow-list.
import { describe, expect, it } from 'vitest';
import type { Catalog } from '../../../core/catalog.js';
import type { ColumnMapping, Plan, TableMapping } from '../../../core/plan.js';
import { checkSelectQuery } from '../../../tools/planning/expression-guard.js';
import { rewriteQuery, sourceDialectOf } from '../../../tools/verification/query-rewrite.js';

const col = (table: string, source: string, target: string): ColumnMapping => ({
  sourceTable: table, sourceColumn: source, targetTable: table, targetColumn: target, transformation: '', targetType: 'integer',
  confidence: 1, band: 'auto', origin: 'heuristic', rationale: '', validationRules: [],
});
const table = (source: string, target: string, columns: Array<[string, string]>): TableMapping => ({
  source, target, confidence: 1, rationale: '', sourceKey: [columns[0]![0]], columns: columns.map(([s, t]) => col(source, s, t)),
});
const plan: Plan = {
  tables: [
    table('Customer', 'customer', [['CustomerId', 'customer_id'], ['Name', 'full_name'], ['Country', 'country']]),
    table('Invoice', 'invoice', [['InvoiceId', 'invoice_id'], ['CustomerId', 'customer_ref'], ['Total', 'total']]),
  ],
  unmappedSource: [], unmappedTarget: [], phases: [['customer'], ['invoice']], cyclic: [], targetDdl: [],
  targetSchemaSource: 'existing', thresholds: { autoApproveAbove: 0.95, reviewAbove: 0.8 }, warnings: [],
};
const TARGET_TABLES = ['customer', 'invoice'];

async function ok(sql: string, dialect: 'postgres' | 'mysql' | 'sqlite'): Promise<string> {
  const r = await rewriteQuery(sql, dialect, plan);
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  const guard = await checkSelectQuery(r.sql, TARGET_TABLES);
  expect(guard, r.sql).toMatchObject({ ok: true });
  return r.sql.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')').trim();
}

async function refused(sql: string, dialect: 'postgres' | 'mysql' | 'sqlite'): Promise<string> {
  const r = await rewriteQuery(sql, dialect, plan);
  if (r.ok) throw new Error(`rewritten, expected a refusal: ${r.sql}`);
  return r.reason;
}

describe('rewriteQuery', () => {
  it('renames tables and columns in MySQL queries, leaving literals, aliases and output names alone', async () => {
    expect(await ok("SELECT `CustomerId`, count(*) AS n FROM Customer WHERE Name = 'Customer' AND Country = \"Name\" GROUP BY `CustomerId` ORDER BY n DESC", 'mysql')).toBe(
      `SELECT customer_id AS "CustomerId", count(*) AS n FROM customer WHERE full_name = 'Customer' AND country = 'Name' GROUP BY customer_id ORDER BY n DESC`,
    );
  });

  it('follows table aliases, qualified names and join conditions; the same source column name maps per table', async () => {
    expect(await ok('SELECT c.Name, i.Total AS t, i.CustomerId FROM Customer c JOIN Invoice AS i ON i.CustomerId = c.CustomerId ORDER BY t DESC, c.Name LIMIT 3', 'mysql')).toBe(
      'SELECT c.full_name AS "Name", i.total AS t, i.customer_ref AS "CustomerId" FROM customer AS c JOIN invoice AS i ON i.customer_ref = c.customer_id ORDER BY t DESC, c.full_name ASC LIMIT 3',
    );
    // Unaliased tables: the qualifier follows the table's new name.
    expect(await ok('SELECT Customer.Name FROM Customer, Invoice WHERE Invoice.CustomerId = Customer.CustomerId', 'sqlite')).toBe(
      'SELECT customer.full_name AS "Name" FROM customer, invoice WHERE invoice.customer_ref = customer.customer_id',
    );
  });

  it('resolves correlated subqueries, derived tables and CTEs in their own scopes, keeping the names they export', async () => {
    expect(await ok('SELECT Name FROM Customer c WHERE EXISTS (SELECT 1 FROM Invoice i WHERE i.CustomerId = c.CustomerId AND Total > 10)', 'sqlite')).toBe(
      'SELECT full_name AS "Name" FROM customer AS c WHERE EXISTS (SELECT 1 FROM invoice AS i WHERE i.customer_ref = c.customer_id AND total > 10)',
    );
    expect(await ok('WITH x AS (SELECT CustomerId, sum(Total) AS s FROM Invoice GROUP BY CustomerId) SELECT c.Name, x.s FROM x JOIN Customer c ON c.CustomerId = x.CustomerId ORDER BY 2', 'postgres')).toBe(
      'WITH x AS (SELECT customer_ref AS customerid, sum(total) AS s FROM invoice GROUP BY customer_ref) SELECT c.full_name AS name, x.s AS s FROM x JOIN customer AS c ON c.customer_id = x.customerid ORDER BY 2',
    );
    expect(await ok('SELECT d.CustomerId, d.n FROM (SELECT CustomerId, count(*) AS n FROM Invoice GROUP BY CustomerId) AS d WHERE d.n > 1', 'mysql')).toBe(
      'SELECT d."CustomerId" AS "CustomerId", d.n AS n FROM (SELECT customer_ref AS "CustomerId", count(*) AS n FROM invoice GROUP BY customer_ref) AS d WHERE d.n > 1',
    );
  });

  it('handles quoted PostgreSQL names, schema qualifiers, UNION with ORDER BY, USING joins and * in source column order', async () => {
    expect(await ok('SELECT "CustomerId" FROM public."Customer" UNION SELECT "CustomerId" FROM "Invoice" ORDER BY "CustomerId"', 'postgres')).toBe(
      'SELECT customer_id AS "CustomerId" FROM customer UNION SELECT customer_ref AS "CustomerId" FROM invoice ORDER BY "CustomerId"',
    );
    expect(await ok('SELECT * FROM Customer', 'sqlite')).toBe(
      'SELECT customer.customer_id AS "CustomerId", customer.full_name AS "Name", customer.country AS "Country" FROM customer',
    );
    expect(await ok('SELECT i.*, c.Name FROM Invoice i JOIN Customer c ON c.CustomerId = i.CustomerId', 'sqlite')).toBe(
      'SELECT i.invoice_id AS "InvoiceId", i.customer_ref AS "CustomerId", i.total AS "Total", c.full_name AS "Name" FROM invoice AS i JOIN customer AS c ON c.customer_id = i.customer_ref',
    );
    // Both sides of USING must map the column to one name: here they do not.
    expect(await refused('SELECT Name FROM Customer JOIN Invoice USING (CustomerId)', 'sqlite')).toMatch(/USING .* does not map to one target column on both sides; write the join with ON/);
  });

  it('refuses what it cannot follow, saying why', async () => {
    expect(await refused('SELECT Nope FROM Customer', 'sqlite')).toBe('the column Nope is in no mapped table of the query (is it mapped?)');
    expect(await refused('SELECT c.Nope FROM Customer c', 'mysql')).toBe('the column c.Nope is not in the approved mapping');
    expect(await refused('SELECT * FROM Secrets', 'postgres')).toBe('the table secrets is not in the approved mapping');
    expect(await refused('SELECT CustomerId FROM Customer, Invoice', 'mysql')).toBe('the column CustomerId is ambiguous: qualify it with its table');
    expect(await refused('SELECT Name FROM Customer NATURAL JOIN Invoice', 'postgres')).toMatch(/NATURAL join/);
    expect(await refused('SELECT x.a FROM Customer c', 'postgres')).toBe('x.a names no table of the query');
    expect(await refused('SELECT * FROM generate_series(1, 3)', 'postgres')).toBe('RangeFunction in FROM cannot be rewritten');
    expect(await refused('DELETE FROM Customer', 'mysql')).toBe('it is not exactly one SELECT statement');
    expect(await refused('SELECT 1; SELECT 2', 'postgres')).toBe('it is not exactly one SELECT statement');
    expect(await refused('SELEKT 1', 'postgres')).toMatch(/^it does not parse as PostgreSQL/);
    expect(await refused('SELECT FROM WHERE', 'mysql')).toMatch(/^the mysql parser cannot read it/);
  });

  it('keeps hostile text inert: names and literals that look like SQL stay names and literals', async () => {
    const sql = await ok(`SELECT Name AS "x""; DROP TABLE customer; --" FROM Customer WHERE Name = 'a''; DROP TABLE customer; --'`, 'postgres');
    expect(sql).toBe(`SELECT full_name AS "x""; DROP TABLE customer; --" FROM customer WHERE full_name = 'a''; DROP TABLE customer; --'`);
    expect(await ok("SELECT `Name` AS `semi;colon`, 'it''s' FROM Customer", 'mysql')).toBe(`SELECT full_name AS "semi;colon", 'it''s' FROM customer`);
    // node-sql-parser prints this alias as broken PostgreSQL: the re-parse catches it and the query is refused, not run.
    expect(await refused('SELECT `Name` AS `weird "alias` FROM Customer', 'mysql')).toMatch(/^it does not parse as PostgreSQL/);
  });

  it('maps source dialect names to parsers', () => {
    expect(['postgresql', 'mariadb', 'sqlite', 'oracle', undefined].map(sourceDialectOf)).toEqual(['postgres', 'mysql', 'sqlite', null, null]);
  });
});

describe('source-dialect functions', () => {
  const typed = (source: string, target: string, type: string): ColumnMapping => ({ ...col('Book', source, target), targetType: type });
  const books: Plan = {
    ...plan,
    tables: [
      {
        source: 'Book', target: 'book', confidence: 1, rationale: '', sourceKey: ['Id'],
        columns: [typed('Id', 'id', 'integer'), typed('Title', 'title', 'character varying(200)'), typed('Price', 'price', 'numeric(8,2)'), typed('Published', 'published', 'timestamp without time zone'), typed('Stamp', 'stamp', 'timestamp with time zone'), typed('Flag', 'flag', 'boolean')],
      },
    ],
  };
  const rewrite = async (sql: string, dialect: 'mysql' | 'sqlite'): Promise<string> => {
    const r = await rewriteQuery(sql, dialect, books);
    if (!r.ok) throw new Error(`refused: ${r.reason}`);
    expect(await checkSelectQuery(r.sql, ['book']), r.sql).toMatchObject({ ok: true });
    return r.sql.replace(/\s+/g, ' ').trim();
  };
  const refusal = async (sql: string, dialect: 'mysql' | 'sqlite'): Promise<string> => {
    const r = await rewriteQuery(sql, dialect, books);
    if (r.ok) throw new Error(`rewritten, expected a refusal: ${r.sql}`);
    return r.reason;
  };

  it('translates MySQL/MariaDB functions PostgreSQL lacks or reads otherwise, in the AST', async () => {
    expect(await rewrite("SELECT IFNULL(Price, 0), IF(Price > 10, 'dear', 'cheap'), IF(Id, 1, 0) FROM Book", 'mysql')).toBe(
      "SELECT COALESCE(price, 0), CASE WHEN price > 10 THEN 'dear' ELSE 'cheap' END, CASE WHEN id <> 0 THEN 1 ELSE 0 END FROM book",
    );
    expect(await rewrite("SELECT IF(Flag, 'yes', 'no') FROM Book", 'mysql')).toBe("SELECT CASE WHEN flag THEN 'yes' ELSE 'no' END FROM book");
    expect(await rewrite('SELECT CURDATE(), CURRENT_DATE FROM Book WHERE Published < NOW()', 'mysql')).toBe("SELECT CURRENT_DATE, CURRENT_DATE FROM book WHERE published < date_trunc('second', LOCALTIMESTAMP)");
    // CONCAT is NULL when an argument is: ||, not concat(), which skips NULLs.
    expect(await rewrite("SELECT CONCAT(Title, ' costs ', Price), CONCAT_WS('-', Id, Title) FROM Book", 'mysql')).toBe("SELECT (title::text || ' costs '::text) || price::text, concat_ws('-', id, title) FROM book");
    expect(await rewrite('SELECT LENGTH(Title), CHAR_LENGTH(Title), LCASE(Title), UCASE(Title) FROM Book', 'mysql')).toBe('SELECT octet_length(title), char_length(title), lower(title), upper(title) FROM book');
    expect(await rewrite('SELECT SUBSTRING(Title, 2, 3), SUBSTR(Title, 2), MID(Title, 1, 4) FROM Book', 'mysql')).toBe('SELECT SUBSTRING(title FROM 2 FOR 3), SUBSTRING(title FROM 2), SUBSTRING(title FROM 1 FOR 4) FROM book');
    expect(await rewrite(`SELECT DATE_FORMAT(Published, '%Y-%m-%d %H:%i:%s'), DATE_FORMAT(Published, '%e %M, "%y"'), YEAR(Published), DAYOFMONTH(Published) FROM Book`, 'mysql')).toBe(
      `SELECT to_char(published, 'YYYY"-"MM"-"DD" "HH24":"MI":"SS'), to_char(published, E'FMDD" "FMMonth", \\\\""YY"\\\\""'), EXTRACT(YEAR FROM published), EXTRACT(DAY FROM published) FROM book`,
    );
    expect(await rewrite('SELECT CAST(Id AS CHAR), CAST(Title AS CHAR(5)) FROM Book', 'mysql')).toBe('SELECT id::text, CAST(title AS varchar(5)) FROM book');
  });

  it('translates SQLite functions, and keeps || only between texts', async () => {
    expect(await rewrite("SELECT ifnull(Title, ''), substr(Title, 2, 3), length(Title), Title || '!' || lower(Title), max(Id), count(*) FROM Book", 'sqlite')).toBe(
      "SELECT COALESCE(title, ''), SUBSTRING(title FROM 2 FOR 3), length(title), (title || '!') || lower(title), max(id), count(*) FROM book",
    );
  });

  it('refuses what has no exact translation, naming the function, never a silent pass', async () => {
    expect(await refusal('SELECT SOUNDEX(Title) FROM Book', 'mysql')).toBe('the function SOUNDEX (MySQL/MariaDB) has no exact PostgreSQL translation: it is not among the functions Sensei translates (see the README, Verify)');
    expect(await refusal('SELECT typeof(Id) FROM Book', 'sqlite')).toMatch(/^the function TYPEOF \(SQLite\) has no exact/);
    expect(await refusal("SELECT strftime('%Y', Published) FROM Book", 'sqlite')).toMatch(/^the function STRFTIME \(SQLite\)/);
    expect(await refusal('SELECT CONCAT(Title, Flag) FROM Book', 'mysql')).toMatch(/^the function CONCAT of the column Flag .*print that type differently/);
    expect(await refusal('SELECT CONCAT(Title, Stamp) FROM Book', 'mysql')).toMatch(/^the function CONCAT of the column Stamp/);
    expect(await refusal('SELECT CONCAT(Title, TRUE) FROM Book', 'mysql')).toMatch(/^the function CONCAT of a literal/);
    expect(await refusal('SELECT SUBSTRING(Title, -3) FROM Book', 'mysql')).toMatch(/^the function SUBSTRING .*a position of 0 or from the end/);
    expect(await refusal('SELECT substr(Title, 0, 2) FROM Book', 'sqlite')).toMatch(/^the function SUBSTR /);
    expect(await refusal('SELECT substr(Title, Id) FROM Book', 'sqlite')).toMatch(/^the function SUBSTR /);
    expect(await refusal("SELECT DATE_FORMAT(Published, '%U') FROM Book", 'mysql')).toMatch(/^the function DATE_FORMAT with %U .*the specifiers translated are %Y/);
    expect(await refusal('SELECT DATE_FORMAT(Published, Title) FROM Book', 'mysql')).toMatch(/only a literal format/);
    expect(await refusal("SELECT Title || 'x' FROM Book", 'mysql')).toMatch(/^the operator \|\| \(MySQL\/MariaDB\).*logical OR/);
    expect(await refusal("SELECT Id || 'x' FROM Book", 'sqlite')).toMatch(/^the operator \|\| over the column Id \(SQLite\)/);
    expect(await refusal('SELECT GREATEST(Id, Price) FROM Book', 'mysql')).toMatch(/^the function GREATEST .*ignores NULL/);
    expect(await refusal('SELECT max(Id, Price) FROM Book', 'sqlite')).toMatch(/^the function MAX with 2 arguments/);
    // Inside a subquery or a join condition too.
    expect(await refusal('SELECT Id FROM Book WHERE Id IN (SELECT Id FROM Book WHERE SOUNDEX(Title) = 1)', 'mysql')).toMatch(/^the function SOUNDEX/);
    // A PostgreSQL source needs no translation: its functions are PostgreSQL's.
    expect((await rewriteQuery('SELECT soundex(Title) FROM Book', 'postgres', books)).ok).toBe(true);
  });
});

describe('MySQL arithmetic, numeric casts and case-insensitive collations', () => {
  const typed = (source: string, type: string): ColumnMapping => ({ ...col('Item', source, source.toLowerCase()), targetType: type });
  const items: Plan = {
    ...plan,
    tables: [
      {
        source: 'Item', target: 'item', confidence: 1, rationale: '', sourceKey: ['Id'],
        columns: [typed('Id', 'integer'), typed('Qty', 'integer'), typed('Price', 'numeric(8,2)'), typed('Ratio', 'double precision'), typed('Name', 'character varying(40)'), typed('Code', 'character varying(8)'), typed('Tag', 'citext')],
      },
    ],
  };
  const catalog: Catalog = {
    dialect: 'mysql', database: 'shop',
    tables: [{
      schema: 'shop', name: 'Item', primaryKey: ['Id'], foreignKeys: [], uniques: [], rowCount: null,
      columns: [['Name', 'utf8mb4_general_ci'], ['Code', 'utf8mb4_0900_as_cs'], ['Tag', 'utf8mb4_general_ci'], ['Qty', undefined]].map(([name, collation], i) => ({
        name: name!, declaredType: 'varchar(40)', logicalType: { kind: 'varchar' }, nullable: true, defaultValue: null, ordinal: i + 1, isGenerated: false, ...(collation ? { collation } : {}),
      })) as Catalog['tables'][number]['columns'],
    }],
  };
  const rewrite = async (sql: string, options: { ordered?: boolean } = {}): Promise<string> => {
    const r = await rewriteQuery(sql, 'mysql', items, { sourceCatalog: catalog, ...options });
    if (!r.ok) throw new Error(`refused: ${r.reason}`);
    expect(await checkSelectQuery(r.sql, ['item']), r.sql).toMatchObject({ ok: true });
    return r.sql.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')').trim();
  };
  const refusal = async (sql: string, options: { ordered?: boolean } = {}) => {
    const r = await rewriteQuery(sql, 'mysql', items, { sourceCatalog: catalog, ...options });
    if (r.ok) throw new Error(`rewritten, expected a refusal: ${r.sql}`);
    return r;
  };
  const Q = (n: number, digits = 9): string => `div(${'x'}::numeric * 1${'0'.repeat(digits)}, NULLIF (${n}, 0)) * 0.${'0'.repeat(digits - 1)}1`;

  it('divides as MySQL: hidden digits truncated inside, rounded to scale + 4 where the value leaves the arithmetic', async () => {
    expect(await rewrite('SELECT Qty / 3, Price / 3 FROM Item WHERE Qty / 3 > 1')).toBe(
      `SELECT round(${Q(3).replace('x', 'qty')}, 4), round(${Q(3).replace('x', 'price')}, 6) FROM item WHERE round(${Q(3).replace('x', 'qty')}, 4) > 1`,
    );
    // The whole arithmetic is rounded once: 1/3*3 is 1.0000 in MySQL.
    expect(await rewrite('SELECT Qty / 3 * 3 FROM Item')).toBe(`SELECT round((${Q(3).replace('x', 'qty')}) * 3, 4) FROM item`);
    // A dividend with 6 decimals keeps 18 hidden digits (6 + 4, rounded up to whole 9-digit words).
    expect(await rewrite('SELECT 1.123456 / 7 FROM Item')).toBe(`SELECT round(${Q(7, 18).replace('x', '1.123456')}, 10) FROM item`);
    expect(await rewrite('SELECT avg(Qty), Ratio / 4 FROM Item')).toBe('SELECT round(div((sum(qty))::numeric * 1000000000, NULLIF (count(qty), 0)) * 0.000000001, 4), ratio / (NULLIF (4, 0)) FROM item');
    // Casts, CASE and functions take the quotient with its hidden digits; the cast decides the scale.
    const q7 = Q(7).replace('x', 'qty');
    expect(await rewrite('SELECT CAST(Qty / 7 AS DECIMAL(10,3)) FROM Item')).toBe(
      `SELECT round(CAST(CASE WHEN round(${q7}, 4) > 9999999.999 THEN 9999999.999 WHEN round(${q7}, 4) < -9999999.999 THEN -9999999.999 ELSE ${q7} END AS numeric(10, 3)), 3) FROM item`,
    );
  });

  it('translates DIV, MOD and %, and casts to SIGNED, UNSIGNED and DECIMAL', async () => {
    expect(await rewrite('SELECT Qty DIV 2, Qty MOD 3, Qty % 3, MOD(Ratio, 2) FROM Item')).toBe(
      'SELECT div(qty::numeric, NULLIF (2::numeric, 0)), mod(qty, NULLIF (3, 0)), mod(qty, NULLIF (3, 0)), mod(ratio::numeric, NULLIF (2::numeric, 0)) FROM item',
    );
    expect(await rewrite('SELECT CAST(Price AS SIGNED), CAST(Qty AS SIGNED INTEGER), CONVERT(Ratio, SIGNED), CAST(Qty AS UNSIGNED) FROM Item')).toBe(
      'SELECT CAST(price AS bigint), CAST(qty AS bigint), CAST(ratio AS bigint), mod(qty::numeric + 18446744073709551616, 18446744073709551616) FROM item',
    );
    // DECIMAL clamps to its range, as MySQL does; without (p,s) it is DECIMAL(10,0), DECIMAL(p) is DECIMAL(p,0).
    const clamp = (x: string, max: string, p: number, s: number): string => `CAST(CASE WHEN ${x} > ${max} THEN ${max} WHEN ${x} < -${max} THEN -${max} ELSE ${x} END AS numeric(${p}, ${s}))`;
    expect(await rewrite('SELECT CAST(Price AS DECIMAL(3,1)), CONVERT(Price, DECIMAL), CAST(Qty AS DECIMAL(5)) FROM Item')).toBe(
      `SELECT ${clamp('price', '99.9', 3, 1)}, ${clamp('price', '9999999999', 10, 0)}, ${clamp('qty', '99999', 5, 0)} FROM item`,
    );
  });

  it('refuses arithmetic and casts it cannot reproduce, naming the operand', async () => {
    expect((await refusal('SELECT Name / 2 FROM Item')).reason).toMatch(/^the operator \/ over the column Name \(MySQL\/MariaDB\).*decimal scale/);
    expect((await refusal('SELECT Qty / 3 + Ratio FROM Item')).reason).toMatch(/mixing a decimal quotient with floating point/);
    expect((await refusal('SELECT CAST(Name AS SIGNED) FROM Item')).reason).toMatch(/^CAST\(… AS SIGNED\) of the column Name .*leading digits/);
    expect((await refusal('SELECT CAST(Price AS UNSIGNED) FROM Item')).reason).toMatch(/^CAST\(… AS UNSIGNED\) of the column Price .*only integer operands/);
    expect((await refusal('SELECT CONVERT(Name, DECIMAL(5,2)) FROM Item')).reason).toMatch(/^CAST\(… AS DECIMAL\) of the column Name/);
    // Not a collation finding: those carry the column.
    expect((await refusal('SELECT Name / 2 FROM Item')).collation).toBeUndefined();
  });

  it('folds comparisons over a case-insensitive column, and leaves case-sensitive and citext columns alone', async () => {
    const r = await rewriteQuery("SELECT Id FROM Item WHERE Name = 'georgi' AND Name IN ('a', 'B') AND Name LIKE 'g%' AND Code = 'X' AND Tag = 'y'", 'mysql', items, { sourceCatalog: catalog });
    expect(r).toMatchObject({ ok: true, collationUses: [{ table: 'Item', column: 'Name', targetTable: 'item', targetColumn: 'name', use: 'compare', padSpace: true }] });
    expect(await rewrite("SELECT Id FROM Item WHERE Name = 'georgi' AND Name IN ('a', 'B') AND Name NOT LIKE 'g%' AND Code = 'X' AND Tag = 'y'")).toBe(
      "SELECT id AS \"Id\" FROM item WHERE rtrim(lower(name), ' ') = rtrim(lower('georgi'), ' ') AND rtrim(lower(name), ' ') IN (rtrim(lower('a'), ' '), rtrim(lower('B'), ' ')) AND name NOT ILIKE 'g%' AND code = 'X' AND tag = 'y'",
    );
    const grouped = await rewriteQuery('SELECT Name, count(*) FROM Item GROUP BY Name UNION SELECT Code, 1 FROM Item', 'mysql', items, { sourceCatalog: catalog });
    expect(grouped).toMatchObject({ ok: true, collationUses: [{ column: 'Name', use: 'group' }] });
    // A result column named by its alias or position is the column it holds.
    for (const sql of ['SELECT Name AS n, count(*) FROM Item GROUP BY n', 'SELECT Name, count(*) FROM Item GROUP BY 1', 'SELECT Id FROM Item UNION SELECT Name FROM Item']) {
      expect(await rewriteQuery(sql, 'mysql', items, { sourceCatalog: catalog }), sql).toMatchObject({ ok: true, collationUses: [{ column: 'Name', use: 'group' }] });
    }
    // An explicit binary or case-sensitive COLLATE decides: dropped, and nothing is folded. Others are refused.
    expect(await rewrite("SELECT Id FROM Item WHERE Name = 'G' COLLATE utf8mb4_bin AND Name COLLATE utf8mb4_0900_as_cs = 'g'")).toBe(`SELECT id AS "Id" FROM item WHERE name = 'G' AND name = 'g'`);
    expect((await refusal("SELECT Id FROM Item WHERE Name = 'g' COLLATE utf8mb4_unicode_ci")).reason).toMatch(/^COLLATE utf8mb4_unicode_ci \(MySQL\/MariaDB\) has no exact PostgreSQL translation/);
    // A derived table or CTE that passes the column through keeps its collation.
    expect(await rewrite("WITH c AS (SELECT Name AS nm FROM Item) SELECT d.nm FROM (SELECT nm FROM c) d WHERE d.nm = 'x'")).toBe(
      "WITH c AS (SELECT name AS nm FROM item) SELECT d.nm AS nm FROM (SELECT nm AS nm FROM c) AS d WHERE rtrim(lower(d.nm), ' ') = rtrim(lower('x'), ' ')",
    );
    // Without the catalog nothing is known about collations: kept as written.
    expect(await rewriteQuery("SELECT Id FROM Item WHERE Name = 'g'", 'mysql', items)).toMatchObject({ ok: true, sql: expect.stringContaining("name = 'g'"), collationUses: [] });
  });

  it('refuses what depends on the collation order or its accent folding, naming table and column', async () => {
    const cases: Array<[string, boolean, RegExp]> = [
      ['SELECT Id FROM Item ORDER BY Name LIMIT 2', false, /^ORDER BY over Item\.Name \(collation utf8mb4_general_ci\)/],
      ['SELECT Name FROM Item ORDER BY Name', true, /^ORDER BY over Item\.Name/],
      ['SELECT Name AS n FROM Item ORDER BY n', true, /^ORDER BY over Item\.Name/],
      ['SELECT Id, Name FROM Item ORDER BY 2 LIMIT 1', false, /^ORDER BY over Item\.Name/],
      ['SELECT max(Name) FROM Item', false, /^the function MAX over Item\.Name/],
      ["SELECT Id FROM Item WHERE Name BETWEEN 'a' AND 'c'", false, /^the comparison BETWEEN over Item\.Name/],
      ["SELECT Id FROM Item WHERE Name = 'José'", false, /^a comparison with a non-ASCII text over Item\.Name/],
      ["SELECT Id FROM Item WHERE Name LIKE 'Jos_é'", false, /^LIKE with a non-ASCII pattern over Item\.Name/],
      ['SELECT Id FROM Item WHERE Name IN (Code, 1)', false, /^IN \(…\) with items other than text literals over Item\.Name/],
    ];
    for (const [sql, ordered, reason] of cases) {
      expect(await refusal(sql, { ordered }), sql).toMatchObject({ ok: false, reason: expect.stringMatching(reason), collation: { table: 'Item', column: 'Name' } });
    }
    // The order of an unordered result without LIMIT does not reach the comparison.
    expect(await rewrite('SELECT Id FROM Item ORDER BY Name')).toBe('SELECT id AS "Id" FROM item ORDER BY name ASC');
  });
});

