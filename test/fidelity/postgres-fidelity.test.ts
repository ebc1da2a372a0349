// PostgreSQL → PostgreSQL fidelity from a non-public schema: every type family compared in SQL on both servers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDatabase, pgExec, pgQuery, type TempDatabase } from '../fixtures/databases.js';
import { countsBalance, migrateDirect, type DirectMigration } from '../fixtures/direct-migration.js';

/** Columns compared by their text as PostgreSQL prints them in UTC; floats and timestamptz through exact forms. */
const COLUMNS: [string, string][] = [
  ['n', 'n::text'],
  ['nn', 'nn::text'],
  ['i8', 'i8::text'],
  ['r', 'r::float8::text'],
  ['dp', 'dp::text'],
  ['t', "encode(convert_to(t, 'UTF8'), 'hex')"],
  ['b', "encode(b, 'hex')"],
  ['u', 'u::text'],
  ['j', 'j::jsonb::text'],
  ['jb', 'jb::text'],
  ['ia', 'ia::text'],
  ['ta', 'ta::text'],
  ['iv', 'iv::text'],
  ['tz', "to_char(tz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"],
  ['ts', "to_char(ts, 'YYYY-MM-DD HH24:MI:SS.US')"],
  ['mood', 'mood::text'],
  ['pos', 'pos::text'],
  ['ci', 'ci::text'],
  ['ip', 'ip::text'],
];

describe('PostgreSQL → PostgreSQL fidelity', () => {
  let src: TempDatabase;
  let tgt: TempDatabase;
  let run: DirectMigration;
  const read = (url: string, schema: string) =>
    pgQuery<Record<string, string | null>>(
      url,
      `SELECT id::text, ${COLUMNS.map(([c, e]) => `${e} AS "${c}"`).join(', ')} FROM "${schema}".torture ORDER BY id`,
    );

  beforeAll(async () => {
    src = await createPgDatabase('sensei_fid');
    tgt = await createPgDatabase('sensei_fid');
    // Every unicode plane that holds characters: BMP, SMP (emoji, music), SIP (CJK ext B), TIP, SSP, PUA-A/B.
    const planes = "'A é 中 😀 𝄞 𠀀 𰀀 \u{E0001} \u{F0000} \u{10FFFD}'";
    await pgExec(
      src.url,
      `CREATE EXTENSION IF NOT EXISTS citext;
       CREATE SCHEMA legacy;
       CREATE TYPE legacy.mood AS ENUM ('sad', 'ok', 'it''s great');
       CREATE DOMAIN legacy.positive AS numeric(10,2) CHECK (VALUE > 0);
       CREATE TABLE legacy.torture (
         id int PRIMARY KEY, n numeric, nn numeric(12,4), i8 bigint, r real, dp double precision, t text, b bytea, u uuid,
         j json, jb jsonb, ia integer[], ta text[], iv interval, tz timestamptz, ts timestamp(6), mood legacy.mood,
         pos legacy.positive, ci citext, ip inet, g int GENERATED ALWAYS AS (id * 2) STORED
       );
       CREATE INDEX torture_mood ON legacy.torture (mood);
       INSERT INTO legacy.torture (id, n, nn, i8, r, dp, t, b, u, j, jb, ia, ta, iv, tz, ts, mood, pos, ci, ip) VALUES
        (1, 'NaN', 12345678.1234, 9223372036854775807, 'Infinity', '-Infinity', ${planes}, '\\x00ff10', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
         '{"b": 1, "a": [1.50, "x"]}', '{"big": 123456789012345678901234567890}', '{1,NULL,3}', '{"a,b","c\\"d",NULL}',
         '-1 years 2 mons -3 days 04:05:06.789', '2024-03-10 01:59:59.999999-05', '0001-01-01 00:00:00', 'it''s great', 0.01, 'MiXeD', '10.0.0.1/8'),
        (2, '-123456789012345678901234567890.123456789012345678901234567890', -0.0001, -9223372036854775808, 'NaN', 1e-308,
         '', '\\x', '00000000-0000-0000-0000-000000000000', '[]', 'null', '{}', '{}', '0', '-infinity', '294276-12-31 23:59:59.999999', 'sad', 99999999.99, '', '::1'),
        (3, 0.1, 0, 0, '-Infinity', 'NaN', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'infinity', NULL, NULL, NULL, NULL, NULL);`,
    );
    run = await migrateDirect(`${src.url}?schema=legacy`, tgt.url, { batchSize: 2 });
  }, 120_000);

  afterAll(async () => {
    await src?.drop();
    await tgt?.drop();
  });

  it('writes every row and the counts balance', () => {
    expect(run.errors).toEqual([]);
    expect(countsBalance(run.outcomes)).toBe(true);
    expect(run.outcomes).toMatchObject([{ source: 'torture', rows_read: 3, rows_written: 3, rows_errored: 0 }]);
  });

  it('keeps every value (NaN, ±Infinity, full-precision numeric, all unicode planes, arrays, intervals) as compared in SQL', async () => {
    const before = await read(src.url, 'legacy');
    const after = await read(tgt.url, 'public');
    expect(after).toEqual(before);
    expect(before[0]!.n).toBe('NaN');
    expect(before[1]!.n).toBe('-123456789012345678901234567890.123456789012345678901234567890');
  });

  it('keeps built-in types, maps domains to their base type and enums and citext to text with the enum as CHECK', async () => {
    const types = await pgQuery<{ c: string; t: string }>(
      tgt.url,
      `SELECT attname AS c, format_type(atttypid, atttypmod) AS t FROM pg_attribute
        WHERE attrelid = 'public.torture'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    );
    expect(Object.fromEntries(types.map((r) => [r.c, r.t]))).toEqual({
      id: 'integer', n: 'numeric', nn: 'numeric(12,4)', i8: 'bigint', r: 'real', dp: 'double precision', t: 'text', b: 'bytea',
      u: 'uuid', j: 'jsonb', jb: 'jsonb', ia: 'integer[]', ta: 'text[]', iv: 'interval', tz: 'timestamp with time zone',
      ts: 'timestamp without time zone', mood: 'text', pos: 'numeric(10,2)', ci: 'text', ip: 'inet',
    });
    const checks = await pgQuery<{ d: string }>(tgt.url, "SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint WHERE conrelid = 'public.torture'::regclass AND contype = 'c'");
    expect(checks.map((r) => r.d)).toEqual(["CHECK ((mood = ANY (ARRAY['sad'::text, 'ok'::text, 'it''s great'::text])))"]);
    const idx = await pgQuery<{ n: string }>(tgt.url, "SELECT indexname AS n FROM pg_indexes WHERE tablename = 'torture' ORDER BY 1");
    expect(idx.map((r) => r.n)).toEqual(['ix_torture_mood', 'torture_pkey']);
  });

  it('keeps citext when the cast table is overridden, and refuses an override that is not a type', async () => {
    const other = await createPgDatabase('sensei_fid');
    try {
      await pgExec(other.url, 'CREATE EXTENSION IF NOT EXISTS citext');
      // Overrides come from configuration: they go through the SQL allow-list before any DDL runs.
      await expect(migrateDirect(`${src.url}?schema=legacy`, other.url, { casts: { text: 'text; DROP TABLE x' } })).rejects.toThrow(
        /cast override casts\.text; DROP TABLE x: "text; DROP TABLE x" is not an allowed PostgreSQL type/,
      );
      expect(await pgQuery(other.url, "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'")).toEqual([{ n: 0 }]);
      const again = await migrateDirect(`${src.url}?schema=legacy`, other.url, { casts: { citext: 'citext', 'torture.nn': 'numeric' } });
      expect(again.errors).toEqual([]);
      const types = await pgQuery<{ c: string; t: string }>(
        other.url,
        "SELECT attname AS c, format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'public.torture'::regclass AND attname IN ('ci', 'nn') ORDER BY 1",
      );
      expect(types).toEqual([{ c: 'ci', t: 'citext' }, { c: 'nn', t: 'numeric' }]);
    } finally {
      await other.drop();
    }
  }, 60_000);
});
