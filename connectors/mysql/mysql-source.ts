// The read side of a MySQL/MariaDB database: catalog, counts and batched key-ordered reads with canonical values.
import mysql from 'mysql2/promise';
import type { Batch, BatchColumn, BatchReject, IrValue } from '../../core/batch.js';
import type { Catalog, ColumnDef, LogicalType, TableDef } from '../../core/catalog.js';
import { ConfigError, ConnectionError } from '../../core/errors.js';
import type { ReadOptions, SourceCapabilities, SourceConnector } from '../connector.js';
import { redactUrl } from '../endpoint.js';
import { isPlainText, MysqlIntrospector, quoteMysql } from './mysql-introspector.js';
import { enumMembers, isSpatialType } from './mysql-types.js';
import { applyDatePolicy, DATE_KINDS, rangeCuts, repairsDoubleEncoding, type DoubleEncodingPolicy, type SourceOptions, type ZeroDatePolicy } from '../source-options.js';
import { classifyDoubleEncoding } from '../text-encoding.js';

const DEFAULT_BATCH_SIZE = 10_000;
const CONNECT_HINT = 'check the URL (host, port, user, database), that the server runs and accepts connections, and the credentials';

interface MysqlTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  ssl: mysql.PoolOptions['ssl'];
}

/**
 * A MySQL/MariaDB source from a `mysql://` or `mariadb://` URL (`user:password@host:port/database`, port default
 * 3306; `?ssl-mode=REQUIRED|VERIFY_IDENTITY|DISABLED`, default no TLS). Call `connect()` before anything else.
 *
 * Reads: tables with a primary key by keyset pagination in key order; tables without one ordered by all columns with
 * LIMIT/OFFSET. `ReadOptions.offset` is the position of the resume point in that order: without `afterKey` that many
 * rows are skipped; with `afterKey` the key locates the resume point and `offset` only numbers the batches.
 * Session `time_zone` is `+00:00`, so TIMESTAMP values are UTC and carry `+00:00`. Zero and impossible dates follow
 * the `zeroDates` policy (batch `rejects` by default); spatial columns are read as WKT; BIT(n) as n binary digits.
 */
export class MysqlSource implements SourceConnector {
  readonly dialect = 'mysql';
  readonly database: string;
  readonly capabilities: SourceCapabilities = { supportsKeysetPagination: true, hasStableRowOrder: false };
  private readonly target: MysqlTarget;
  private readonly where: string;
  private pool: mysql.Pool | undefined;
  private readonly introspector: MysqlIntrospector;

  private readonly zeroDates: ZeroDatePolicy;
  private readonly doubleEncoding: DoubleEncodingPolicy;

  /**
   * `options.zeroDates`: what a zero date (`0000-00-00`, `2020-00-15`) becomes; default `error`.
   * `options.doubleEncoding`: whether double-encoded UTF-8 is only reported (default) or repaired. See source-options.ts.
   */
  constructor(url: string, options: SourceOptions = {}) {
    this.zeroDates = options.zeroDates ?? 'error';
    this.doubleEncoding = options.doubleEncoding ?? 'report';
    this.target = parseMysqlUrl(url);
    this.database = this.target.database;
    this.where = `${this.target.host}:${this.target.port}, database ${this.target.database}`;
    this.introspector = new MysqlIntrospector((sql, params) => this.rows(sql, params, 'read the catalog'), this.database, this.doubleEncoding);
  }

  /** Open the pool and check that the server answers and the credentials are accepted. */
  async connect(): Promise<void> {
    if (this.pool) return;
    const { host, port, user, password, database, ssl } = this.target;
    const pool = mysql.createPool({
      host,
      port,
      user,
      password,
      database,
      ssl,
      charset: 'utf8mb4',
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      decimalNumbers: false,
      jsonStrings: true,
      connectTimeout: 10_000,
      connectionLimit: 4,
      // No pool-wide typeCast function: mysql2 would call it, with a new closure, for every field of every row read.
      // Table reads select spatial columns as WKT (`selectTerm`); the queries that may meet raw geometry pass
      // `geometryAsBytes` themselves.
    });
    // The core pool hands out callback connections (the promise typings of this event are wrong).
    pool.pool.on('connection', (conn) => {
      // Queued before any query on this connection, so every read sees TIMESTAMP in UTC.
      conn.query("SET time_zone = '+00:00'", (err) => {
        if (err) conn.destroy();
      });
    });
    try {
      await pool.query('SELECT 1');
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw new ConnectionError(`cannot connect to MySQL at ${this.where}: ${connectReason(e, user)}`, {
        hint: CONNECT_HINT,
        cause: e,
      });
    }
    this.pool = pool;
  }

  async catalog(options: { withCounts?: boolean } = {}): Promise<Catalog> {
    return this.introspector.catalog(options);
  }

  async countRows(table: TableDef): Promise<number> {
    const rows = await this.rows<{ n: number | string }>(
      `SELECT COUNT(*) AS n FROM ${this.qualified(table.name)}`,
      [],
      `count table ${table.name}`,
    );
    return Number(rows[0]?.n ?? 0);
  }

  async *readBatches(table: TableDef, options: ReadOptions = {}): AsyncIterable<Batch> {
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize <= 0) {
      throw new ConfigError(`batch size for table ${table.name} must be a positive integer`, { hint: 'set strategy.batch_size to e.g. 10000' });
    }
    const cols = table.columns.filter((c) => !c.isGenerated);
    const columns: BatchColumn[] = cols.map((c) => ({
      name: c.name,
      declaredType: c.declaredType,
      logicalType: c.logicalType,
      encoding: c.encoding ?? 'utf8',
    }));
    const convert = cols.map((c) => converterFor(c.logicalType));
    const dateLike = cols.map((c) => DATE_KINDS.has(c.logicalType.kind));
    const repair = cols.map((c) => isPlainText(c) && repairsDoubleEncoding(this.doubleEncoding, table.name, c.name));
    const keyIdx = table.primaryKey.map((k) => cols.findIndex((c) => c.name === k));
    // A key over a generated column is not in the select list: read such a table like one without a key.
    const keyed = keyIdx.length > 0 && keyIdx.every((i) => i >= 0);
    const select = `SELECT ${cols.map(selectTerm).join(', ')} FROM ${this.qualified(table.name)}`;
    const orderBy = keyed ? table.primaryKey : cols.map((c) => c.name);
    const order = ` ORDER BY ${orderBy.map(quoteMysql).join(', ')}`;

    let after = options.afterKey ?? null;
    if (after !== null && !keyed) {
      throw new ConfigError(`afterKey given for table ${table.name}, which has no usable primary key`, {
        hint: 'resume tables without a key with offset',
      });
    }
    if (after !== null && after.length !== table.primaryKey.length) {
      throw new ConfigError(
        `afterKey for table ${table.name} has ${after.length} values but its primary key has ${table.primaryKey.length} columns`,
        { hint: 'pass the lastKey of a batch of this table' },
      );
    }
    const until = options.untilKey ?? null;
    if (until !== null && (!keyed || until.length !== table.primaryKey.length)) {
      throw new ConfigError(`untilKey for table ${table.name} does not match its primary key (${table.primaryKey.join(', ') || 'none'})`, {
        hint: 'pass a key tuple from splitKeys of this table',
      });
    }
    let offset = options.offset ?? 0;
    let skip = keyed && after !== null ? 0 : offset;
    const keyCols = keyIdx.map((i) => cols[i]!);

    for (;;) {
      let sql = select;
      const params: unknown[] = [];
      const where: string[] = [];
      if (keyed && after !== null) where.push(keysetPredicate(table.primaryKey, keyCols, after, params, '>'));
      if (until !== null) where.push(keysetPredicate(table.primaryKey, keyCols, until, params, '<='));
      if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
      sql += `${order} LIMIT ${batchSize}`;
      if (skip > 0) sql += ` OFFSET ${skip}`;
      const values: IrValue[][] = cols.map(() => new Array<IrValue>(batchSize));
      const rejects: BatchReject[] = [];
      const repairs: BatchReject[] = [];
      // Each row goes into the batch's columns as the driver parses it: no array of the batch's row arrays is kept
      // while the rest arrive (they would outlive the young generation and be copied, for nothing).
      const count = await this.eachRow(sql, params, `read table ${table.name}`, (row, r) => {
        for (let c = 0; c < cols.length; c++) {
          const v = row[c];
          if (dateLike[c] && typeof v === 'string') {
            const kept = applyDatePolicy(v, this.zeroDates, table.name, cols[c]!.name, r, rejects);
            if (kept !== v) {
              values[c]![r] = kept;
              continue;
            }
          }
          if (repair[c] && typeof v === 'string') {
            values[c]![r] = undoDoubleEncoding(v, { table: table.name, column: cols[c]!.name, row: r }, rejects, repairs);
            continue;
          }
          values[c]![r] = convert[c]!(v);
        }
      });
      if (count === 0) return;
      if (count < batchSize) for (const v of values) v.length = count;
      const last = count - 1;
      const lastKey = keyed ? keyIdx.map((i) => values[i]![last]!) : null;
      yield {
        table: table.name,
        columns,
        values,
        rowCount: count,
        lastKey,
        offset,
        ...(rejects.length > 0 ? { rejects } : {}),
        ...(repairs.length > 0 ? { repairs } : {}),
      };

      offset += count;
      if (count < batchSize) return;
      if (keyed) {
        after = lastKey;
        skip = 0;
      } else {
        skip = offset;
      }
    }
  }

  /** Key tuples at even row positions in key order: one short index walk (`LIMIT 1 OFFSET n`) per cut. */
  async splitKeys(table: TableDef, parts: number, align = 1, rows?: number): Promise<IrValue[][]> {
    const keyCols = table.primaryKey.map((k) => table.columns.find((c) => c.name === k && !c.isGenerated));
    if (parts < 2 || keyCols.length === 0 || !keyCols.every((c): c is ColumnDef => c !== undefined)) return [];
    const total = rows ?? (await this.countRows(table));
    const convert = keyCols.map((c) => converterFor(c.logicalType));
    const keys: IrValue[][] = [];
    for (const at of rangeCuts(total, parts, align)) {
      const rows = await this.arrays(
        `SELECT ${keyCols.map(selectTerm).join(', ')} FROM ${this.qualified(table.name)} ORDER BY ${table.primaryKey.map(quoteMysql).join(', ')} LIMIT 1 OFFSET ${at}`,
        [],
        `split table ${table.name}`,
      );
      if (rows[0]) keys.push(keyCols.map((_, j) => convert[j]!(rows[0]![j])));
    }
    return keys;
  }

  /** About `rows` rows kept by `RAND()` in one scan inside the server (only the sample travels). */
  async sampleRows(table: TableDef, rows: number): Promise<Batch> {
    const total = table.rowCount ?? (await this.countRows(table));
    const cols = table.columns.filter((c) => !c.isGenerated);
    const convert = cols.map((c) => converterFor(c.logicalType));
    const share = total === 0 ? 1 : Math.min(1, (rows + 4 * Math.sqrt(rows) + 10) / total);
    const raw = await this.arrays(
      // Shuffled before the LIMIT, so that cutting the slightly larger sample does not favour the table's first rows.
      `SELECT * FROM (SELECT ${cols.map(selectTerm).join(', ')} FROM ${this.qualified(table.name)} WHERE RAND() < ?) AS s ORDER BY RAND() LIMIT ${Math.floor(rows)}`,
      [share],
      `sample table ${table.name}`,
    );
    const values: IrValue[][] = cols.map((_, c) => raw.map((r) => convert[c]!(r[c])));
    const columns: BatchColumn[] = cols.map((c) => ({ name: c.name, declaredType: c.declaredType, logicalType: c.logicalType, encoding: 'utf8' }));
    return { table: table.name, columns, values, rowCount: raw.length, lastKey: null, offset: 0 };
  }

  /**
   * One `IN (…)` query. Integers are sent as numbers: MySQL compares an integer column with a quoted string as
   * doubles. Under a case-insensitive collation values differing only in case count once (an undercount).
   */
  async countMatches(table: TableDef, column: string, values: ReadonlyArray<string | number>): Promise<number> {
    if (values.length === 0) return 0;
    const rows = await this.arrays(
      `SELECT COUNT(DISTINCT ${quoteMysql(column)}) FROM ${this.qualified(table.name)} WHERE ${quoteMysql(column)} IN (${values.map(() => '?').join(', ')})`,
      [...values],
      `match values of column ${column} in table ${table.name}`,
    );
    return Number(rows[0]![0]);
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  async replayQuery(sql: string): Promise<{ columns: string[]; rows: unknown[][] }> {
    const conn = await this.requirePool().getConnection();
    try {
      await conn.query('START TRANSACTION READ ONLY');
      const [rows, fields] = await conn.query({ sql, rowsAsArray: true, typeCast: geometryAsBytes });
      return { columns: (fields ?? []).map((f) => f.name), rows: rows as unknown[][] };
    } finally {
      await conn.query('ROLLBACK').catch(() => undefined);
      conn.release();
    }
  }

  private qualified(table: string): string {
    return `${quoteMysql(this.database)}.${quoteMysql(table)}`;
  }

  private requirePool(): mysql.Pool {
    if (!this.pool) {
      throw new ConnectionError(`MySQL source ${this.where} is not connected`, { hint: 'call connect() (openSource does) before reading' });
    }
    return this.pool;
  }

  private async rows<R>(sql: string, params: unknown[] | undefined, what: string): Promise<R[]> {
    try {
      const [rows] = await this.requirePool().query({ sql, values: params, typeCast: geometryAsBytes });
      return rows as R[];
    } catch (e) {
      throw this.queryError(e, what);
    }
  }

  /**
   * Runs `sql` and hands each row (as an array) to `onRow` as it is parsed, without collecting them; resolves with
   * the number of rows once the result ends. A failure of the query, of its connection or of `onRow` rejects,
   * described like `arrays`' (a failure of `onRow` after the rest of the result is read, so the connection goes back
   * to the pool clean).
   */
  private eachRow(sql: string, params: unknown[], what: string, onRow: (row: unknown[], index: number) => void): Promise<number> {
    // The core (callback) pool and connection: a query given no callback emits each row instead of collecting them.
    const core = this.requirePool().pool as unknown as CorePool;
    return new Promise((resolve, reject) => {
      core.getConnection((err, conn) => {
        if (err) return reject(this.queryError(err, what));
        let n = 0;
        let failed: unknown = null;
        let settled = false;
        // A query without a callback is not told when its connection dies (mysql2 tells the connection): listen there.
        const lost = (e: unknown): void => {
          if (settled) return;
          settled = true;
          reject(this.queryError(e, what));
        };
        conn.once('error', lost);
        const query = conn.query({ sql, values: params, rowsAsArray: true });
        query.on('result', (row: unknown[]) => {
          if (failed !== null) return;
          try {
            onRow(row, n++);
          } catch (e) {
            failed = e;
          }
        });
        // A server error comes with 'end'.
        query.once('error', (e: unknown) => void (failed ??= this.queryError(e, what)));
        query.once('end', () => {
          conn.removeListener('error', lost);
          if (settled) return;
          settled = true;
          conn.release();
          if (failed === null) resolve(n);
          else reject(failed);
        });
      });
    });
  }

  private async arrays(sql: string, params: unknown[], what: string): Promise<unknown[][]> {
    try {
      const [rows] = await this.requirePool().query({ sql, values: params, rowsAsArray: true });
      return rows as unknown[][];
    } catch (e) {
      throw this.queryError(e, what);
    }
  }

  private queryError(e: unknown, what: string): Error {
    if (e instanceof ConnectionError) return e;
    const code = (e as { code?: string }).code ?? 'unknown error';
    // Only the code: a server message can quote key values sent in the statement.
    const reason = code === 'ER_NO_SUCH_TABLE' ? 'the table does not exist' : code;
    return new ConnectionError(`MySQL could not ${what} at ${this.where}: ${reason}`, {
      hint: code === 'ER_NO_SUCH_TABLE' ? 'read the catalog again: the table may have been dropped or renamed' : CONNECT_HINT,
      cause: e,
    });
  }
}

/** The parts of mysql2's callback pool and connection that `eachRow` uses (its promise wrapper's typings hide them). */
interface CoreConnection {
  query(options: { sql: string; values: unknown[]; rowsAsArray: boolean }): NodeJS.EventEmitter;
  once(event: 'error', listener: (e: unknown) => void): void;
  removeListener(event: 'error', listener: (e: unknown) => void): void;
  release(): void;
}
interface CorePool {
  getConnection(cb: (err: unknown, conn: CoreConnection) => void): void;
}

function parseMysqlUrl(url: string): MysqlTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    throw new ConfigError(`MySQL URL ${redactUrl(url)} is not a valid URL`, { hint: 'write mysql://user@host:3306/database', cause: e });
  }
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') {
    throw new ConfigError(`MySQL URL ${redactUrl(url)} must start with mysql:// or mariadb://`, { hint: 'write mysql://user@host:3306/database' });
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) {
    throw new ConfigError(`MySQL URL ${redactUrl(url)} names no database`, { hint: 'add the database: mysql://user@host:3306/database' });
  }
  const mode = (u.searchParams.get('ssl-mode') ?? u.searchParams.get('sslmode') ?? '').toUpperCase();
  const ssl =
    mode === 'REQUIRED' || mode === 'REQUIRE'
      ? { rejectUnauthorized: false }
      : mode === 'VERIFY_IDENTITY' || mode === 'VERIFY_CA' || mode === 'VERIFY-FULL'
        ? { rejectUnauthorized: true }
        : undefined;
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username) || 'root',
    password: decodeURIComponent(u.password),
    database,
    ssl,
  };
}

function connectReason(e: unknown, user: string): string {
  const code = (e as { code?: string }).code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'ER_ACCESS_DENIED_ERROR':
    case 'ER_DBACCESS_DENIED_ERROR':
      return `access denied for user ${user}`;
    case 'ER_BAD_DB_ERROR':
      return 'unknown database';
    default:
      return code || 'unknown error';
  }
}

/**
 * `k1 > ?` for one key column; `k1 >= ? AND (k1, k2) > (?, ?)` for several, because MariaDB does not use an index
 * range for a bare row-value comparison (it scans from the start), while the leading `k1 >= ?` gives it one. The
 * same with `<=` for the end of a key range (`k1 <= ?` bounds the index range there).
 */
function keysetPredicate(keys: string[], keyCols: ColumnDef[], bound: IrValue[], params: unknown[], op: '>' | '<='): string {
  if (keys.length === 1) return `${quoteMysql(keys[0]!)} ${op} ${keyLiteral(bound[0]!, keyCols[0]!, params)}`;
  const lead = keyLiteral(bound[0]!, keyCols[0]!, params);
  const row = bound.map((v, i) => keyLiteral(v, keyCols[i]!, params));
  return `${quoteMysql(keys[0]!)} ${op === '>' ? '>=' : '<='} ${lead} AND (${keys.map(quoteMysql).join(', ')}) ${op} (${row.join(', ')})`;
}

/**
 * A key value in SQL. Exact numbers go inline as literals: MySQL compares an integer column with a quoted string as
 * doubles and would confuse 9007199254740993 with its neighbours. ENUM and SET sort by their internal number, not
 * their text, so they are compared by that number. Everything else is a `?` parameter, escaped by the driver.
 */
function keyLiteral(v: IrValue, col: ColumnDef, params: unknown[]): string {
  const kind = col.logicalType.kind;
  const enumOrSet = /^(enum|set)\s*\(/i.exec(col.declaredType)?.[1]?.toLowerCase();
  if (enumOrSet !== undefined && typeof v === 'string') {
    const members = enumMembers(col.declaredType).map((m) => m.toLowerCase());
    if (enumOrSet === 'enum') return String(members.indexOf(v.toLowerCase()) + 1);
    let mask = 0n;
    for (const part of v === '' ? [] : v.split(',')) mask |= 1n << BigInt(members.indexOf(part.toLowerCase()));
    return mask.toString();
  }
  if (kind === 'bits' && typeof v === 'string' && /^[01]+$/.test(v)) return `b'${v}'`;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) && ['int16', 'int32', 'int64', 'decimal'].includes(kind)) return v;
  if (typeof v === 'boolean') return v ? '1' : '0';
  params.push(kind === 'timestamptz' && typeof v === 'string' ? v.replace(/\+00:00$/, '') : v);
  return '?';
}

type Converter = (v: unknown) => IrValue;

/**
 * A text value of a column configured for repair: double-encoded UTF-8 comes back as the text meant and is listed in
 * `repairs`; a value with the mark that does not round-trip is kept as read and rejected (rule `double_encoding`).
 */
function undoDoubleEncoding(v: string, at: { table: string; column: string; row: number }, rejects: BatchReject[], repairs: BatchReject[]): string {
  const found = classifyDoubleEncoding(v);
  if (found.kind === 'clean') return v;
  const where = `${at.table}.${at.column}`;
  if (found.kind === 'double') {
    repairs.push({
      row: at.row,
      column: at.column,
      rule: 'double_encoding_repaired',
      reason: `${where} held UTF-8 read as latin1 (double-encoded); repaired as configured (double_encoding)`,
    });
    return found.text;
  }
  rejects.push({
    row: at.row,
    column: at.column,
    rule: 'double_encoding',
    reason: `${where} looks double-encoded at character ${found.offset} but is not cp1252-encoded UTF-8, so it cannot be repaired without guessing; fix the value at the source, or leave the column out of double_encoding to load it unchanged`,
  });
  return v;
}

/** A column in a select list: spatial values as WKT text. */
/** Geometry would be parsed into point objects; keep the bytes the server stores. */
const geometryAsBytes = (field: { type: string; buffer(): Buffer | null }, next: () => unknown): unknown => (field.type === 'GEOMETRY' ? field.buffer() : next());

function selectTerm(c: ColumnDef): string {
  return isSpatialType(c.declaredType) ? `ST_AsText(${quoteMysql(c.name)}) AS ${quoteMysql(c.name)}` : quoteMysql(c.name);
}

const asIs: Converter = (v) => (v === undefined ? null : (v as IrValue));

/** Driver value → canonical IR value for a logical kind (the driver already gives strings for dates and decimals). */
function converterFor(type: LogicalType): Converter {
  switch (type.kind) {
    case 'int16':
    case 'int32':
    case 'float32':
    case 'float64':
      return (v) => (v === null || v === undefined ? null : typeof v === 'number' ? v : Number(v));
    case 'boolean':
      // TINYINT(1) proven 0/1 at catalog time; anything else that appeared since stays a number and fails validation.
      return (v) => (v === null || v === undefined ? null : v === 0 ? false : v === 1 ? true : (v as IrValue));
    case 'bits':
      return (v) => (v === null || v === undefined ? null : Buffer.isBuffer(v) ? bitString(v, type.length ?? 1) : String(v));
    case 'int64':
    case 'decimal':
      return (v) => (v === null || v === undefined ? null : String(v));
    case 'timestamptz':
      return (v) => (v === null || v === undefined ? null : `${String(v)}+00:00`);
    case 'bytes':
      return (v) => (v === null || v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8'));
    default:
      return asIs;
  }
}

/** BIT(n) bytes (big-endian, as MySQL sends them) as a string of n binary digits. */
function bitString(b: Buffer, bits: number): string {
  let out = '';
  for (const byte of b) out += byte.toString(2).padStart(8, '0');
  return out.length >= bits ? out.slice(out.length - bits) : out.padStart(bits, '0');
}
