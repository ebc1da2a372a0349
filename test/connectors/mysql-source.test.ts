// The MySQL/MariaDB source against the real MariaDB server: the shared contract plus MySQL's own types and failures.
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableDef } from '../../core/catalog.js';
import { ConfigError, ConnectionError, describeError, isConfigError } from '../../core/errors.js';
import type { SourceConnector } from '../../connectors/connector.js';
import { MysqlSource } from '../../connectors/mysql/mysql-source.js';
import { enumMembers, mysqlLogicalType } from '../../connectors/mysql/mysql-types.js';
import { resolveEndpoint } from '../../connectors/endpoint.js';
import { openSource } from '../../connectors/open-source.js';
import { MYSQL_ADMIN_URL, createMysqlDatabase, mysqlExec, type TempDatabase } from '../fixtures/databases.js';
import { SOURCE_FIXTURE, batchRows, collectBatches, runSourceContract } from './source-contract.js';
import { classifyFault } from '../../tools/execution/fault-class.js';

const FIXTURE_DDL = [
  `CREATE TABLE customers (
     id INT PRIMARY KEY,
     name VARCHAR(100) NOT NULL,
     email VARCHAR(200) NULL UNIQUE,
     balance DECIMAL(12,2) NOT NULL,
     birth_date DATE NULL,
     created_at DATETIME NOT NULL,
     is_active TINYINT(1) NOT NULL
   )`,
  `CREATE TABLE orders (
     id INT PRIMARY KEY,
     customer_id INT NOT NULL,
     order_no VARCHAR(20) NOT NULL,
     ordered_on DATE NOT NULL,
     total DECIMAL(12,2) NULL,
     CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id),
     CONSTRAINT orders_customer_no_key UNIQUE (customer_id, order_no)
   )`,
  `CREATE TABLE order_items (
     order_id INT NOT NULL,
     line_no INT NOT NULL,
     product TEXT NOT NULL,
     quantity INT NOT NULL,
     unit_price DECIMAL(10,2) NOT NULL,
     PRIMARY KEY (order_id, line_no),
     CONSTRAINT order_items_order_fk FOREIGN KEY (order_id) REFERENCES orders (id)
   )`,
  `CREATE TABLE notes (body TEXT NOT NULL, author VARCHAR(50) NULL)`,
  `CREATE TABLE empty_table (id INT PRIMARY KEY, label VARCHAR(20) NULL)`,
  `CREATE TABLE big_values (id INT PRIMARY KEY, big_number BIGINT NOT NULL, payload BLOB NULL)`,
];

/** Run statements with `?` parameters on a database. */
async function withConnection(url: string, fn: (c: mysql.Connection) => Promise<void>): Promise<void> {
  const c = await mysql.createConnection({ uri: url, charset: 'utf8mb4' });
  try {
    await fn(c);
  } finally {
    await c.end();
  }
}

async function loadFixture(url: string): Promise<void> {
  await withConnection(url, async (c) => {
    for (const ddl of FIXTURE_DDL) await c.query(ddl);
    for (const t of SOURCE_FIXTURE) {
      const sql = `INSERT INTO \`${t.name}\` (${t.columns.map((col) => `\`${col}\``).join(', ')}) VALUES (${t.columns.map(() => '?').join(', ')})`;
      for (const row of t.rows) await c.query(sql, row);
    }
  });
}

runSourceContract('mysql', async () => {
  const db = await createMysqlDatabase('sensei_src_contract');
  await loadFixture(db.url);
  return { open: () => openSource(db.url), teardown: () => db.drop() };
});

describe('mysqlLogicalType', () => {
  it('widens unsigned integers and keeps type parameters', () => {
    expect(mysqlLogicalType('tinyint(3) unsigned')).toEqual({ kind: 'int16' });
    expect(mysqlLogicalType('smallint(5) unsigned')).toEqual({ kind: 'int32' });
    expect(mysqlLogicalType('mediumint(8) unsigned')).toEqual({ kind: 'int32' });
    expect(mysqlLogicalType('int(10) unsigned')).toEqual({ kind: 'int64' });
    expect(mysqlLogicalType('int(11)')).toEqual({ kind: 'int32' });
    expect(mysqlLogicalType('bigint(20)')).toEqual({ kind: 'int64' });
    expect(mysqlLogicalType('bigint(20) unsigned')).toEqual({ kind: 'decimal', precision: 20, scale: 0 });
    expect(mysqlLogicalType('decimal(12,2)')).toEqual({ kind: 'decimal', precision: 12, scale: 2 });
    expect(mysqlLogicalType('decimal(12,2) unsigned zerofill')).toEqual({ kind: 'decimal', precision: 12, scale: 2 });
    expect(mysqlLogicalType('tinyint(1)')).toEqual({ kind: 'int16' });
    expect(mysqlLogicalType('year(4)')).toEqual({ kind: 'int16' });
    expect(mysqlLogicalType('float')).toEqual({ kind: 'float32' });
    expect(mysqlLogicalType('double')).toEqual({ kind: 'float64' });
    expect(mysqlLogicalType('char(3)')).toEqual({ kind: 'char', length: 3 });
    expect(mysqlLogicalType('varchar(255)')).toEqual({ kind: 'varchar', length: 255 });
    expect(mysqlLogicalType('mediumtext')).toEqual({ kind: 'text' });
    expect(mysqlLogicalType('datetime(6)')).toEqual({ kind: 'timestamp' });
    expect(mysqlLogicalType('timestamp')).toEqual({ kind: 'timestamptz' });
    expect(mysqlLogicalType('time(3)')).toEqual({ kind: 'interval' });
    expect(mysqlLogicalType('bit(8)')).toEqual({ kind: 'bits', length: 8 });
    expect(mysqlLogicalType('varbinary(16)')).toEqual({ kind: 'bytes' });
    expect(mysqlLogicalType('longblob')).toEqual({ kind: 'bytes' });
    expect(mysqlLogicalType('json')).toEqual({ kind: 'json' });
    expect(mysqlLogicalType('longtext', { isJson: true })).toEqual({ kind: 'json' });
    expect(mysqlLogicalType('geometry')).toEqual({ kind: 'text' });
  });

  it('sizes ENUM by its longest member and SET by all members joined', () => {
    expect(mysqlLogicalType("enum('happy','sad','it''s complicated')")).toEqual({ kind: 'varchar', length: 16, values: ['happy', 'sad', "it's complicated"] });
    expect(mysqlLogicalType("set('a','bb','ccc')")).toEqual({ kind: 'varchar', length: 8, setMembers: ['a', 'bb', 'ccc'] });
    expect(mysqlLogicalType("enum('Zoë','ab')")).toEqual({ kind: 'varchar', length: 3, values: ['Zoë', 'ab'] });
    expect(enumMembers("enum('a','it''s','back\\\\slash','x,y')")).toEqual(['a', "it's", 'back\\slash', 'x,y']);
  });
});

describe('MysqlSource specifics', () => {
  let db: TempDatabase;
  let src: SourceConnector;
  const table = async (name: string): Promise<TableDef> => {
    const t = (await src.catalog()).tables.find((x) => x.name === name);
    if (!t) throw new Error(`no table ${name}`);
    return t;
  };

  beforeAll(async () => {
    db = await createMysqlDatabase('sensei_src_mysql');
    await withConnection(db.url, async (c) => {
      await c.query(`CREATE TABLE types_demo (
        id INT UNSIGNED NOT NULL PRIMARY KEY,
        u_tiny TINYINT UNSIGNED, u_small SMALLINT UNSIGNED, u_medium MEDIUMINT UNSIGNED, u_int INT UNSIGNED,
        u_big BIGINT UNSIGNED, s_big BIGINT, flag TINYINT(1),
        mood ENUM('happy','sad','it''s complicated'), tags SET('a','bb','ccc'), doc JSON,
        dt6 DATETIME(6), ts TIMESTAMP NULL, t TIME(3), y YEAR, b BIT(8), f FLOAT, d DOUBLE, vb VARBINARY(16), ch CHAR(3),
        doubled INT AS (u_small * 2) VIRTUAL,
        stored_sum BIGINT AS (u_int + 1) STORED
      )`);
      // The TIMESTAMP is written at +02:00 and must come back as UTC.
      await c.query(`SET time_zone = '+02:00'`);
      await c.query(
        `INSERT INTO types_demo (id, u_tiny, u_small, u_medium, u_int, u_big, s_big, flag, mood, tags, doc, dt6, ts, t, y, b, f, d, vb, ch)
         VALUES (1, 255, 65535, 16777215, 4294967295, 18446744073709551615, -9223372036854775808, 1, ?, 'a,ccc', ?,
                 '2024-01-15 10:30:00.123456', '2024-01-15 12:00:00', '838:59:59.500', 2024, b'10100101', 1.5, 0.1, X'00FF', 'ab')`,
        ["it's complicated", '{"a": 1, "b": [true, null], "big": 9007199254740993}'],
      );
      await c.query(`INSERT INTO types_demo (id, flag) VALUES (2, 0)`);
      await c.query(`CREATE TABLE bigkeys (k BIGINT PRIMARY KEY, note VARCHAR(40))`);
      await c.query(
        `INSERT INTO bigkeys VALUES (9007199254740994, 'c'), (9007199254740992, 'a'), (9007199254740993, 'b'), (-5, 'neg')`,
      );
      await c.query(`CREATE TABLE ubigkeys (k BIGINT UNSIGNED PRIMARY KEY)`);
      await c.query(`INSERT INTO ubigkeys VALUES (18446744073709551615), (18446744073709551614), (0)`);
      await c.query(`CREATE TABLE tskeys (at TIMESTAMP NOT NULL, n INT NOT NULL, label VARCHAR(10), PRIMARY KEY (at, n))`);
      await c.query(`SET time_zone = '+00:00'`);
      await c.query(
        `INSERT INTO tskeys VALUES ('2024-01-01 00:00:00', 2, 'b'), ('2024-01-01 00:00:00', 1, 'a'),
                                   ('2024-01-02 00:00:00', 1, 'c'), ('2023-12-31 23:59:59', 9, 'z')`,
      );
      await c.query('CREATE TABLE `odd``name` (`select` VARCHAR(20) PRIMARY KEY, `from` INT)');
      await c.query('INSERT INTO `odd``name` VALUES (?, 1), (?, 2), (?, 3)', ["it's", 'a\\b', 'Zoë']);
      await c.query(`CREATE TABLE enumkeys (e ENUM('zebra','Apple','mango') NOT NULL, s SET('x','y') NOT NULL, n INT,
                     PRIMARY KEY (e, s))`);
      await c.query(`INSERT INTO enumkeys VALUES ('mango','y',1), ('zebra','x,y',2), ('apple','x',3), ('zebra','x',4)`);
      await c.query('CREATE TABLE heap (v INT, w VARCHAR(5))');
      await c.query(`INSERT INTO heap VALUES (2, 'b'), (1, 'a'), (2, 'b'), (3, NULL)`);
      await c.query('CREATE VIEW heap_view AS SELECT v FROM heap');
    });
    src = await openSource(db.url);
  });

  afterAll(async () => {
    await src?.close();
    await db?.drop();
  });

  it('names dialect and database and declares its capabilities', () => {
    expect(src).toBeInstanceOf(MysqlSource);
    expect(src.dialect).toBe('mysql');
    expect(src.database).toBe(db.name);
    expect(src.capabilities).toEqual({ supportsKeysetPagination: true, hasStableRowOrder: false });
  });

  it('lists base tables only, not views', async () => {
    const names = (await src.catalog()).tables.map((t) => t.name);
    expect(names).toEqual(['bigkeys', 'enumkeys', 'heap', 'odd`name', 'tskeys', 'types_demo', 'ubigkeys']);
    expect((await src.catalog()).tables.every((t) => t.schema === db.name)).toBe(true);
  });

  it('maps the declared types of a real table', async () => {
    const t = await table('types_demo');
    const kinds = Object.fromEntries(t.columns.map((c) => [c.name, c.logicalType]));
    expect(kinds).toEqual({
      id: { kind: 'int64' },
      u_tiny: { kind: 'int16' },
      u_small: { kind: 'int32' },
      u_medium: { kind: 'int32' },
      u_int: { kind: 'int64' },
      u_big: { kind: 'decimal', precision: 20, scale: 0 },
      s_big: { kind: 'int64' },
      // TINYINT(1) holding only 0 and 1.
      flag: { kind: 'boolean' },
      mood: { kind: 'varchar', length: 16, values: ['happy', 'sad', "it's complicated"] },
      tags: { kind: 'varchar', length: 8, setMembers: ['a', 'bb', 'ccc'] },
      doc: { kind: 'json' },
      dt6: { kind: 'timestamp' },
      ts: { kind: 'timestamptz' },
      t: { kind: 'interval' },
      y: { kind: 'int16' },
      b: { kind: 'bits', length: 8 },
      f: { kind: 'float32' },
      d: { kind: 'float64' },
      vb: { kind: 'bytes' },
      ch: { kind: 'char', length: 3 },
      doubled: { kind: 'int32' },
      stored_sum: { kind: 'int64' },
    });
    expect(t.columns.filter((c) => c.isGenerated).map((c) => c.name)).toEqual(['doubled', 'stored_sum']);
    expect(t.columns.find((c) => c.name === 'mood')!.declaredType).toBe("enum('happy','sad','it''s complicated')");
    expect(t.columns.find((c) => c.name === 'flag')!.defaultValue).toBeNull();
  });

  it('reads canonical values, skips generated columns and keeps fractional seconds', async () => {
    const t = await table('types_demo');
    const [batch] = await collectBatches(src, t);
    expect(batch!.columns.map((c) => c.name)).not.toContain('doubled');
    expect(batch!.columns.map((c) => c.name)).not.toContain('stored_sum');
    const names = batch!.columns.map((c) => c.name);
    const [one, two] = batchRows([batch!]).map((r) => Object.fromEntries(r.map((v, i) => [names[i]!, v])));
    expect(one).toEqual({
      id: '1',
      u_tiny: 255,
      u_small: 65535,
      u_medium: 16777215,
      u_int: '4294967295',
      u_big: '18446744073709551615',
      s_big: '-9223372036854775808',
      flag: true,
      mood: "it's complicated",
      tags: 'a,ccc',
      doc: expect.any(String),
      dt6: '2024-01-15 10:30:00.123456',
      ts: '2024-01-15 10:00:00+00:00',
      t: '838:59:59.500',
      y: 2024,
      b: '10100101',
      f: 1.5,
      d: 0.1,
      vb: Buffer.from([0x00, 0xff]),
      ch: 'ab',
    });
    // JSON arrives as its text, big numbers inside it intact.
    expect(one!.doc).toContain('9007199254740993');
    expect(JSON.parse(one!.doc as string)).toMatchObject({ a: 1, b: [true, null] });
    expect(two!.flag).toBe(false);
    expect(two!.u_big).toBeNull();
    expect(two!.ts).toBeNull();
    expect(two!.doc).toBeNull();
  });

  it('runs every pooled session in UTC, whatever the server default', async () => {
    // The server here defaults to UTC, so the TIMESTAMP value above cannot tell; ask the sessions themselves.
    const pool = (src as unknown as { pool: mysql.Pool }).pool;
    const conns = await Promise.all([pool.getConnection(), pool.getConnection(), pool.getConnection()]);
    try {
      for (const c of conns) {
        const [rows] = await c.query('SELECT @@session.time_zone AS tz');
        expect((rows as { tz: string }[])[0]!.tz).toBe('+00:00');
      }
    } finally {
      for (const c of conns) c.release();
    }
  });

  it('pages exactly across BIGINT keys beyond 2^53 and BIGINT UNSIGNED keys up to the maximum', async () => {
    const big = await table('bigkeys');
    const batches = await collectBatches(src, big, { batchSize: 1 });
    expect(batches.map((b) => b.lastKey)).toEqual([['-5'], ['9007199254740992'], ['9007199254740993'], ['9007199254740994']]);
    expect(batchRows(await collectBatches(src, big, { afterKey: ['9007199254740993'] }))).toEqual([['9007199254740994', 'c']]);

    const ubig = await table('ubigkeys');
    const ub = await collectBatches(src, ubig, { batchSize: 2 });
    expect(batchRows(ub)).toEqual([['0'], ['18446744073709551614'], ['18446744073709551615']]);
    expect(batchRows(await collectBatches(src, ubig, { afterKey: ['18446744073709551614'] }))).toEqual([['18446744073709551615']]);
  });

  it('resumes a composite TIMESTAMP key after a mid-group key', async () => {
    const t = await table('tskeys');
    const all = await collectBatches(src, t, { batchSize: 2 });
    expect(batchRows(all).map((r) => r[2])).toEqual(['z', 'a', 'b', 'c']);
    expect(all[0]!.lastKey).toEqual(['2024-01-01 00:00:00+00:00', 1]);
    const rest = await collectBatches(src, t, { afterKey: all[0]!.lastKey, offset: 2 });
    expect(batchRows(rest).map((r) => r[2])).toEqual(['b', 'c']);
    expect(rest.map((b) => b.offset)).toEqual([2]);
  });

  it('quotes identifiers with backticks and reads string keys with quotes and backslashes exactly once', async () => {
    const t = await table('odd`name');
    expect(t.columns.map((c) => c.name)).toEqual(['select', 'from']);
    const batches = await collectBatches(src, t, { batchSize: 1 });
    const keys = batches.map((b) => b.lastKey![0]);
    expect([...keys].sort()).toEqual(['Zoë', 'a\\b', "it's"].sort());
    expect(await src.countRows(t)).toBe(3);
    const rest = await collectBatches(src, t, { afterKey: batches[0]!.lastKey });
    expect(batchRows(rest).map((r) => r[0])).toEqual(keys.slice(1));
  });

  it('pages ENUM/SET keys in their internal order, not alphabetically', async () => {
    const t = await table('enumkeys');
    const batches = await collectBatches(src, t, { batchSize: 1 });
    expect(batchRows(batches)).toEqual([
      ['zebra', 'x', 4],
      ['zebra', 'x,y', 2],
      ['Apple', 'x', 3],
      ['mango', 'y', 1],
    ]);
    expect(batchRows(await collectBatches(src, t, { afterKey: ['zebra', 'x,y'] })).map((r) => r[2])).toEqual([3, 1]);
  });

  it('reads a keyless table with duplicates by LIMIT/OFFSET over all columns', async () => {
    const t = await table('heap');
    const batches = await collectBatches(src, t, { batchSize: 1 });
    expect(batches.map((b) => b.offset)).toEqual([0, 1, 2, 3]);
    const rows = batchRows(batches);
    expect(rows).toEqual([[1, 'a'], [2, 'b'], [2, 'b'], [3, null]]);
    expect(batchRows(await collectBatches(src, t, { batchSize: 10, offset: 2 }))).toEqual(rows.slice(2));
    await expect(collectBatches(src, t, { afterKey: [1] })).rejects.toSatisfy(isConfigError);
  });

  it('fails a read the server refuses part-way (table gone between batches), naming the table, and reads on after', async () => {
    await withConnection(db.url, async (c) => {
      await c.query('CREATE TABLE doomed (id INT PRIMARY KEY, v VARCHAR(5))');
      await c.query("INSERT INTO doomed VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    });
    const t = await table('doomed');
    const it = src.readBatches(t, { batchSize: 2 })[Symbol.asyncIterator]();
    expect((await it.next()).value?.rowCount).toBe(2);
    await withConnection(db.url, async (c) => void (await c.query('DROP TABLE doomed')));
    const failure = await it.next().then(
      () => null,
      (e: unknown) => e,
    );
    expect(String((failure as Error)?.message)).toMatch(/read table doomed/);
    // The pool is still usable: the failed query gave its connection back.
    expect(batchRows(await collectBatches(src, await table('heap'), { batchSize: 10 }))).toHaveLength(4);
  });

  it('fails, and does not hang, when its connection is killed while a batch streams in', async () => {
    await withConnection(db.url, async (c) => void (await c.query("CREATE TABLE wide (id INT PRIMARY KEY, pad VARCHAR(200)) SELECT seq AS id, REPEAT('x', 200) AS pad FROM seq_1_to_300000")));
    const t = await table('wide');
    let killed = false;
    const reading = collectBatches(src, t, { batchSize: 300_000 });
    await withConnection(db.url, async (c) => {
      for (let i = 0; i < 400 && !killed; i++) {
        const [rows] = (await c.query("SELECT id FROM information_schema.processlist WHERE info LIKE 'SELECT `id`, `pad` FROM%'")) as unknown as [Array<{ id: number }>];
        if (rows[0]) {
          await c.query(`KILL CONNECTION ${rows[0].id}`);
          killed = true;
        } else await new Promise((r) => setTimeout(r, 5));
      }
    });
    expect(killed).toBe(true);
    const failure = await reading.then(
      () => null,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(String((failure as Error).message)).toMatch(/MySQL could not read table wide at .*: PROTOCOL_CONNECTION_LOST/);
    expect(classifyFault(failure)).toBe('transient');
    await withConnection(db.url, async (c) => void (await c.query('DROP TABLE wide')));
  }, 60_000);

  it('rejects a mismatched afterKey and a bad batch size', async () => {
    await expect(collectBatches(src, await table('tskeys'), { afterKey: ['x'] })).rejects.toBeInstanceOf(ConfigError);
    await expect(collectBatches(src, await table('bigkeys'), { batchSize: -1 })).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('MysqlSource with a resolved credential', () => {
  const user = `sensei_t_${process.pid}`;
  const password = 'p%40ss:w/rd@#?& 1';
  let db: TempDatabase;

  beforeAll(async () => {
    db = await createMysqlDatabase('sensei_src_auth');
    await mysqlExec(db.url, 'CREATE TABLE t (id INT PRIMARY KEY)');
    await withConnection(MYSQL_ADMIN_URL, async (c) => {
      await c.query('DROP USER IF EXISTS ?@?', [user, '%']);
      await c.query('CREATE USER ?@? IDENTIFIED BY ?', [user, '%', password]);
      await c.query(`GRANT SELECT ON \`${db.name}\`.* TO ?@?`, [user, '%']);
    });
  });

  afterAll(async () => {
    await withConnection(MYSQL_ADMIN_URL, (c) => c.query('DROP USER IF EXISTS ?@?', [user, '%']).then(() => undefined));
    await db?.drop();
  });

  it('authenticates with a password full of URL-special characters taken from env://', async () => {
    process.env.SENSEI_T_MYSQL_PW = password;
    try {
      const r = await resolveEndpoint(
        { type: 'mariadb', host: '127.0.0.1', port: 3306, database: db.name, user, credentials: 'env://SENSEI_T_MYSQL_PW' },
        { baseDir: process.cwd(), role: 'source' },
      );
      expect(r.redacted).toBe(`mariadb://${user}:***@127.0.0.1:3306/${db.name}`);
      const src = await openSource(r.url);
      try {
        expect((await src.catalog()).tables.map((t) => t.name)).toEqual(['t']);
      } finally {
        await src.close();
      }
    } finally {
      delete process.env.SENSEI_T_MYSQL_PW;
    }
  });
});

describe('MysqlSource connection failures', () => {
  const secret = 'S3cret-pw!x';

  const failure = async (url: string): Promise<ConnectionError> => {
    const e = await openSource(url).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ConnectionError);
    const err = e as ConnectionError;
    expect(err.hint).toMatch(/URL/);
    expect(describeError(err)).not.toContain(secret);
    expect(err.message).not.toContain(secret);
    return err;
  };

  it('names host:port and database when nothing listens there', async () => {
    const err = await failure(`mysql://root:${encodeURIComponent(secret)}@127.0.0.1:1/some_db`);
    expect(err.message).toContain('127.0.0.1:1');
    expect(err.message).toContain('some_db');
    expect(err.message).toMatch(/refused/);
  });

  it('reports a rejected password without the password', async () => {
    const err = await failure(`mariadb://root:${encodeURIComponent(secret)}@127.0.0.1:3306/mysql`);
    expect(err.message).toContain('127.0.0.1:3306');
    expect(err.message).toMatch(/access denied for user root/);
  });

  it('reports an unknown database by name', async () => {
    const err = await failure('mysql://root@127.0.0.1:3306/sensei_no_such_database_here');
    expect(err.message).toContain('sensei_no_such_database_here');
    expect(err.message).toMatch(/unknown database/);
  });

  it('refuses a URL without a database before connecting', async () => {
    const e = await openSource(`mysql://root:${encodeURIComponent(secret)}@127.0.0.1:3306/`).catch((err: unknown) => err);
    expect(isConfigError(e)).toBe(true);
    expect((e as Error).message).not.toContain(secret);
    expect((e as Error).message).toContain('***');
  });

  it('refuses reads before connect', async () => {
    const s = new MysqlSource('mysql://root@127.0.0.1:3306/mysql');
    await expect(s.catalog()).rejects.toBeInstanceOf(ConnectionError);
    await s.close();
  });
});
