// MariaDB → PostgreSQL fidelity: a torture table per type family, compared value by value in SQL on both servers.
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlDatabase, createPgDatabase, mysqlExec, pgExec, pgQuery, type TempDatabase } from '../fixtures/databases.js';
import { countsBalance, migrateDirect, type DirectMigration } from '../fixtures/direct-migration.js';

/** [column, canonical text in MariaDB SQL, canonical text in PostgreSQL SQL] — each side computed by its own server. */
const COMPARE: [string, string, string][] = [
  ['ti', 'CAST(ti AS CHAR)', 'ti::text'],
  ['ti1', 'CAST(ti1 AS CHAR)', "CASE WHEN ti1 THEN '1' WHEN NOT ti1 THEN '0' END"],
  ['ti1x', 'CAST(ti1x AS CHAR)', 'ti1x::text'],
  ['si', 'CAST(si AS CHAR)', 'si::text'],
  ['iu', 'CAST(iu AS CHAR)', 'iu::text'],
  ['bu', 'CAST(bu AS CHAR)', 'bu::text'],
  ['bs', 'CAST(bs AS CHAR)', 'bs::text'],
  ['dec', 'CAST(`dec` AS CHAR)', 'dec::text'],
  ['f', 'CAST(CAST(f AS DOUBLE) AS CHAR)', 'f::float8::text'],
  ['d', 'CAST(d AS CHAR)', 'd::text'],
  ['bit5', "LPAD(BIN(bit5), 5, '0')", 'bit5::text'],
  ['y', 'CAST(y AS CHAR)', 'y::text'],
  ['dt', "DATE_FORMAT(dt, '%Y-%m-%d')", "to_char(dt, 'YYYY-MM-DD')"],
  ['dt6', "DATE_FORMAT(dt6, '%Y-%m-%d %H:%i:%s.%f')", "to_char(dt6, 'YYYY-MM-DD HH24:MI:SS.US')"],
  ['ts', "DATE_FORMAT(ts, '%Y-%m-%d %H:%i:%s.%f')", "to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"],
  ['tm', 'CAST(TIME_TO_SEC(tm) AS DECIMAL(20,6))', 'round(extract(epoch FROM tm), 6)::text'],
  ['u8', 'HEX(u8)', "upper(encode(convert_to(u8, 'UTF8'), 'hex'))"],
  ['l1', 'HEX(CONVERT(l1 USING utf8mb4))', "upper(encode(convert_to(l1, 'UTF8'), 'hex'))"],
  ['bc', 'HEX(bc)', "upper(encode(convert_to(bc, 'UTF8'), 'hex'))"],
  ['vb', 'HEX(vb)', "upper(encode(vb, 'hex'))"],
  ['bl', 'HEX(bl)', "upper(encode(bl, 'hex'))"],
  ['e', 'CAST(e AS CHAR)', 'e'],
  ['st', 'CAST(st AS CHAR)', 'st'],
  ['g', 'ST_AsText(g)', 'g'],
];

const TORTURE = `CREATE TABLE torture (
  id INT NOT NULL PRIMARY KEY,
  ti TINYINT, ti1 TINYINT(1), ti1x TINYINT(1), si SMALLINT UNSIGNED, iu INT UNSIGNED, bu BIGINT UNSIGNED, bs BIGINT,
  \`dec\` DECIMAL(65,30), f FLOAT, d DOUBLE, bit5 BIT(5), y YEAR, dt DATE, dt6 DATETIME(6), ts TIMESTAMP(6) NULL,
  tm TIME(6), u8 VARCHAR(40) CHARACTER SET utf8mb4, l1 VARCHAR(20) CHARACTER SET latin1,
  bc VARCHAR(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT 'x''y', vb VARBINARY(10), bl BLOB,
  e ENUM('a','it''s','zz') DEFAULT 'a', st SET('a','b','c'), j JSON, g GEOMETRY, gen INT AS (ti * 2) VIRTUAL,
  KEY ix_u8 (u8), KEY ix_two (ti, si)
) CHARACTER SET utf8mb4`;

const ROWS = `
INSERT INTO torture (id, ti, ti1, ti1x, si, iu, bu, bs, \`dec\`, f, d, bit5, y, dt, dt6, ts, tm, u8, l1, bc, vb, bl, e, st, j, g) VALUES
 (1, 127, 1, 2, 65535, 4294967295, 18446744073709551615, -9223372036854775808,
  '99999999999999999999999999999999999.999999999999999999999999999999', 3.40282e38, 0.30000000000000004e0, b'10101', 2155,
  '0009-12-04', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999', '838:59:59.000000',
  'A😀𝄞中文ÿ\\tend', X'80E9FF9F', 'AbC', X'00FF', X'DEADBEEF00', 'it''s', 'a,c',
  '{"big": 9007199254740993, "s": "x\\\\u00e9y", "n": [1.5, true, null]}', ST_GeomFromText('POINT(1 2)')),
 (2, -128, 0, 0, 0, 0, 0, 9223372036854775807,
  '-0.000000000000000000000000000001', -1.17549e-38, 1.7976931348623157e308, b'00000', 1901,
  '1000-01-01', '1000-01-01 00:00:00.000001', '1970-01-01 00:00:01.000000', '-838:59:59.999999',
  '', '', '', X'', X'', 'zz', '', '[]', ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))')),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 5e-324, NULL, NULL, '2024-02-29', NULL, NULL, '-00:00:00.000001',
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`;

describe('MariaDB → PostgreSQL fidelity', () => {
  let src: TempDatabase;
  let tgt: TempDatabase;
  let run: DirectMigration;

  beforeAll(async () => {
    src = await createMysqlDatabase('sensei_fid');
    tgt = await createPgDatabase('sensei_fid');
    await mysqlExec(
      src.url,
      `${TORTURE}; ${ROWS};
       CREATE TABLE no_pk (a INT, b VARCHAR(10)); INSERT INTO no_pk VALUES (2,'b'),(1,'a'),(2,'b'),(NULL,NULL);
       CREATE TABLE composite (k1 INT NOT NULL, k2 VARCHAR(10) NOT NULL, v INT, PRIMARY KEY (k1, k2));
       INSERT INTO composite VALUES (1,'b',1),(1,'a',2),(0,'z',3);
       CREATE TABLE uuid_keyed (id CHAR(36) NOT NULL PRIMARY KEY, n INT);
       INSERT INTO uuid_keyed VALUES ('ffffffff-0000-4000-8000-000000000000',1),('00000000-0000-4000-8000-000000000000',2);
       CREATE TABLE empty_one (id INT PRIMARY KEY, v TEXT);
       CREATE TABLE wide (id INT PRIMARY KEY, big LONGTEXT, blobby LONGBLOB);
       INSERT INTO wide VALUES (1, REPEAT('wide—', 200000), REPEAT(X'00FF', 300000));`,
    );
    run = await migrateDirect(src.url, tgt.url, { batchSize: 2 });
  }, 180_000);

  afterAll(async () => {
    await src?.drop();
    await tgt?.drop();
  });

  it('writes every row and the counts balance for every table', () => {
    expect(run.errors).toEqual([]);
    expect(countsBalance(run.outcomes)).toBe(true);
    expect(Object.fromEntries(run.outcomes.map((o) => [o.source, [o.rows_read, o.rows_written]]))).toEqual({
      composite: [3, 3],
      empty_one: [0, 0],
      no_pk: [4, 4],
      torture: [3, 3],
      uuid_keyed: [2, 2],
      wide: [1, 1],
    });
  });

  it('keeps every value of every type family, compared in SQL on both sides', async () => {
    const c = await mysql.createConnection({ uri: src.url, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true });
    await c.query("SET time_zone = '+00:00'");
    const [mrows] = await c.query({ sql: `SELECT id, ${COMPARE.map(([, m]) => m).join(', ')} FROM torture ORDER BY id`, rowsAsArray: true });
    await c.end();
    const prows = await pgQuery<Record<string, string | null>>(
      tgt.url,
      `SELECT id::text, ${COMPARE.map(([n, , p]) => `${p} AS "${n}"`).join(', ')} FROM torture ORDER BY id`,
    );
    const mine = (mrows as unknown[][]).map((r) => Object.fromEntries(COMPARE.map(([n], i) => [n, r[i + 1] === null ? null : String(r[i + 1])])));
    const theirs = prows.map((r) => Object.fromEntries(COMPARE.map(([n]) => [n, r[n] ?? null])));
    // TIME seconds and floats: compare as numbers (the servers spell exponents and padding differently).
    for (const row of [...mine, ...theirs])
      for (const n of ['tm', 'f', 'd']) if (row[n] !== null && row[n] !== undefined) row[n] = String(Number(row[n]));
    expect(theirs).toEqual(mine);
    expect(mine[0]!.l1).toBe('E282ACC3A9C3BFC5B8'); // latin1 0x80 0xE9 0xFF 0x9F is cp1252: € é ÿ Ÿ
    expect(mine[0]!.bu).toBe('18446744073709551615');
  });

  it('keeps JSON equal as JSON, big numbers included', async () => {
    const c = await mysql.createConnection({ uri: src.url, jsonStrings: true });
    const [mrows] = await c.query({ sql: 'SELECT j FROM torture ORDER BY id', rowsAsArray: true });
    await c.end();
    const texts = (mrows as unknown[][]).map((r) => (r[0] === null ? null : String(r[0])));
    const normalised = await pgQuery<{ j: string | null }>(tgt.url, 'SELECT ($1::jsonb)::text AS j UNION ALL SELECT ($2::jsonb)::text UNION ALL SELECT ($3::jsonb)::text', texts);
    const target = await pgQuery<{ j: string | null }>(tgt.url, 'SELECT j::text AS j FROM torture ORDER BY id');
    expect(target).toEqual(normalised);
    expect(target[0]!.j).toContain('9007199254740993');
  });

  it('generates lossless types, leaves generated columns out and reports TINYINT(1) booleans', async () => {
    const types = await pgQuery<{ c: string; t: string }>(
      tgt.url,
      `SELECT attname AS c, format_type(atttypid, atttypmod) AS t FROM pg_attribute
        WHERE attrelid = 'public.torture'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    );
    expect(Object.fromEntries(types.map((r) => [r.c, r.t]))).toMatchObject({
      ti1: 'boolean',
      ti1x: 'smallint',
      iu: 'bigint',
      bu: 'numeric(20,0)',
      dec: 'numeric(65,30)',
      bit5: 'bit(5)',
      tm: 'interval',
      ts: 'timestamp with time zone',
      j: 'jsonb',
      g: 'text',
    });
    expect(types.map((r) => r.c)).not.toContain('gen');
    expect(run.plan.warnings).toContain('source column torture.ti1: TINYINT(1) holding only 0 and 1: migrated as boolean');
  });

  it('keeps keys, NOT NULL, defaults, ENUM and SET as CHECKs and non-unique indexes (built after the load)', async () => {
    const idx = await pgQuery<{ d: string }>(tgt.url, "SELECT indexdef AS d FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'torture' ORDER BY indexname");
    expect(idx.map((r) => r.d)).toEqual([
      'CREATE INDEX ix_torture_ti_si ON public.torture USING btree (ti, si)',
      'CREATE INDEX ix_torture_u8 ON public.torture USING btree (u8)',
      'CREATE UNIQUE INDEX torture_pkey ON public.torture USING btree (id)',
    ]);
    expect(run.plan.postLoadDdl).toHaveLength(2);
    const checks = await pgQuery<{ d: string }>(tgt.url, "SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint WHERE conrelid = 'public.torture'::regclass AND contype = 'c'");
    expect(checks.map((r) => r.d).sort()).toEqual([
      expect.stringMatching(/^CHECK \(\(\(\(st\)::text = ''::text\) OR \(string_to_array\(\(st\)::text, ','::text\) <@ ARRAY\['a'::text, 'b'::text, 'c'::text\]\)\)\)$/),
      expect.stringMatching(/^CHECK \(\(\(e\)::text = ANY .*'a'.*'it''s'.*'zz'.*\)$/),
    ]);
    // The SET's CHECK takes any combination of members (and the empty set) and nothing else.
    await pgExec(tgt.url, "BEGIN; INSERT INTO torture (id, st) VALUES (100, 'b'), (101, 'a,b,c'), (102, ''); ROLLBACK");
    await expect(pgExec(tgt.url, "INSERT INTO torture (id, st) VALUES (103, 'a,d')")).rejects.toThrow(/violates check constraint/);
    await expect(pgExec(tgt.url, "INSERT INTO torture (id, st) VALUES (104, 'A')")).rejects.toThrow(/violates check constraint/);
    const defaults = await pgQuery<{ c: string; d: string }>(
      tgt.url,
      "SELECT column_name AS c, column_default AS d FROM information_schema.columns WHERE table_name = 'torture' AND column_default IS NOT NULL ORDER BY 1",
    );
    expect(defaults).toEqual([
      { c: 'bc', d: "'x''y'::character varying(10)" },
      { c: 'e', d: "'a'::character varying(4)" },
    ]);
    const pk = await pgQuery<{ d: string }>(tgt.url, "SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint WHERE conrelid = 'public.composite'::regclass AND contype = 'p'");
    expect(pk).toEqual([{ d: 'PRIMARY KEY (k1, k2)' }]);
  });

  it('copies tables without a key (duplicates kept), composite and text keys, empty tables and very wide rows', async () => {
    expect(await pgQuery(tgt.url, 'SELECT a, b FROM no_pk ORDER BY a NULLS LAST, b')).toEqual([
      { a: 1, b: 'a' },
      { a: 2, b: 'b' },
      { a: 2, b: 'b' },
      { a: null, b: null },
    ]);
    expect(await pgQuery(tgt.url, 'SELECT k1, k2, v FROM composite ORDER BY k1, k2')).toEqual([
      { k1: 0, k2: 'z', v: 3 },
      { k1: 1, k2: 'a', v: 2 },
      { k1: 1, k2: 'b', v: 1 },
    ]);
    expect(await pgQuery(tgt.url, 'SELECT count(*)::int AS n FROM uuid_keyed')).toEqual([{ n: 2 }]);
    expect(await pgQuery(tgt.url, 'SELECT count(*)::int AS n FROM empty_one')).toEqual([{ n: 0 }]);
    const [wide] = await pgQuery<{ n: number; b: number; h: string }>(tgt.url, "SELECT char_length(big) AS n, octet_length(blobby) AS b, md5(blobby) AS h FROM wide");
    const c = await mysql.createConnection({ uri: src.url });
    const [[m]] = (await c.query('SELECT CHAR_LENGTH(big) AS n, LENGTH(blobby) AS b, MD5(blobby) AS h FROM wide')) as unknown as [[{ n: number; b: number; h: string }]];
    await c.end();
    expect(wide).toEqual({ n: Number(m.n), b: Number(m.b), h: m.h });
  });
});
