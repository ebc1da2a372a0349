import { describe, expect, it } from 'vitest';
import { checkExpression, checkSelectQuery } from '../../../tools/planning/expression-guard.js';

const ctx = { allowedColumns: ['id', 'name', 'dob', 'flag', 'amount_cents'] };

async function reason(expr: string, c: Parameters<typeof checkExpression>[1] = ctx): Promise<string> {
  const r = await checkExpression(expr, c);
  if (r.ok) throw new Error(`expected a rejection of ${expr}`);
  return r.reason;
}

describe('checkExpression accepts the transformations Sensei and its users write', () => {
  it.each([
    ['CAST(src."id" AS integer)', ['id']],
    ['upper(trim(src.name))', ['name']],
    ["to_date(src.dob, 'YYYYMMDD')", ['dob']],
    ["CASE WHEN src.flag IN ('Y', 'y') THEN true WHEN src.flag = 'N' THEN false ELSE NULL END", ['flag']],
    ['CAST(src.amount_cents AS numeric(12, 2)) / 100', ['amount_cents']],
    ["coalesce(nullif(btrim(name), ''), 'unknown')", ['name']],
    ["src.dob ~ '^[0-9]{8}$' AND src.id IS NOT NULL", ['dob', 'id']],
    ['greatest(src.id, 0)::bigint', ['id']],
    ['CAST(src.id AS numeric) BETWEEN -2147483648 AND 2147483647', ['id']],
    ['src.id NOT BETWEEN 1 AND src.amount_cents', ['id', 'amount_cents']],
  ])('%s', async (expr, columns) => {
    const r = await checkExpression(expr, ctx);
    expect(r).toEqual({ ok: true, expression: expr, columns });
  });

  it('accepts casts to types the target declares when they are passed in', async () => {
    expect((await checkExpression('CAST(src.flag AS "mood")', { ...ctx, extraTypes: ['mood'] })).ok).toBe(true);
    expect(await reason('CAST(src.flag AS "mood")')).toBe('casting to mood is not allowed');
  });
});

describe('checkExpression rejects hostile input and names what is wrong', () => {
  it.each([
    ['(SELECT password FROM users LIMIT 1)', 'sub-queries are not allowed'],
    ['src.id IN (SELECT id FROM other)', 'sub-queries are not allowed'],
    ['EXISTS (SELECT 1)', 'sub-queries are not allowed'],
    ["pg_read_file('/etc/passwd')", 'the function pg_read_file() is not on the allow-list'],
    ['pg_sleep(10)', 'the function pg_sleep() is not on the allow-list'],
    ["dblink('host=evil', 'select 1')", 'the function dblink() is not on the allow-list'],
    ["lo_import('/etc/shadow')", 'the function lo_import() is not on the allow-list'],
    ['src.id); DROP TABLE customers; SELECT (1', 'semicolons are not allowed: an expression is not a statement'],
    ['src.id -- trailing comment', 'comments are not allowed (found -- trailing comment)'],
    ['src.id /* hidden */ + 1', 'comments are not allowed (found /* hidden */)'],
    ['other_table.id', 'the reference other_table.id points outside the row being transformed (other tables are not allowed)'],
    ['public.users.id', 'the reference public.users.id points outside the row being transformed (other tables are not allowed)'],
    ['src.salary', 'the column "salary" is not a column of this row (known: id, name, dob, flag, amount_cents)'],
    ['src.*', '`*` is not allowed: name the column'],
    ['pg_catalog.pg_sleep(1)', 'the function pg_sleep() is not on the allow-list'],
    ['myschema.upper(src.name)', 'the function myschema.upper is not on the allow-list'],
    ["CAST('pg_class' AS regclass)", 'casting to regclass is not allowed'],
    ['count(*)', 'the function count() is not on the allow-list'],
    ['upper(src.name) OVER ()', 'upper() may not be used as an aggregate or window function'],
    ['current_user', 'current_user is not allowed'],
    ['$1', 'parameters ($1) are not allowed'],
    ["$$x$$ || src.name", 'dollar-quoted strings are not allowed'],
    ['', 'the expression is empty'],
    ['src.id +', 'it does not parse as one PostgreSQL expression: syntax error at or near ")"'],
    ['src.id) FROM pg_shadow WHERE (true', 'it is not a plain expression (it has fromClause, whereClause)'],
    ['src.id, src.name', 'RowExpr is not allowed in an expression'],
    ['src.id), (src.name', 'it is not exactly one expression'],
    ["set_config('role', 'postgres', false)", 'the function set_config() is not on the allow-list'],
    ['ROW(src.id, src.name)', 'RowExpr is not allowed in an expression'],
  ])('%s', async (expr, why) => {
    expect(await reason(expr)).toBe(why);
  });

  it('checks the arguments of allowed functions too', async () => {
    expect(await reason("upper(pg_read_file('/etc/passwd'))")).toBe('the function pg_read_file() is not on the allow-list');
    expect(await reason('coalesce(src.name, (SELECT 1)::text)')).toBe('sub-queries are not allowed');
  });

  it('refuses over-long input before parsing', async () => {
    expect(await reason(`src.id + ${'1 + '.repeat(2000)}1`)).toBe('the expression is longer than 4000 characters');
  });

  it('lets a caller choose which qualifier names the row (target-side rules)', async () => {
    const target = { allowedColumns: ['email'], qualifiers: ['t'] };
    expect((await checkExpression("t.email LIKE '%@%'", target)).ok).toBe(true);
    expect(await reason("src.email LIKE '%@%'", target)).toBe('the reference src.email points outside the row being transformed (other tables are not allowed)');
  });
});

describe('checkSelectQuery and the current time', () => {
  it('lets a replayed query read LOCALTIMESTAMP (a MySQL NOW()), never a transformation; other clock and session values stay out', async () => {
    expect(await checkSelectQuery("SELECT count(*) FROM books WHERE published < date_trunc('second', LOCALTIMESTAMP)", ['books'])).toMatchObject({ ok: true });
    expect((await checkExpression('LOCALTIMESTAMP', { allowedColumns: [] })).ok).toBe(false);
    expect(await checkSelectQuery('SELECT CURRENT_USER FROM books', ['books'])).toMatchObject({ ok: false, reason: 'current_user is not allowed' });
    expect(await checkSelectQuery('SELECT CURRENT_TIMESTAMP FROM books', ['books'])).toMatchObject({ ok: false });
  });
});
