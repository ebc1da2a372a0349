// The read side of a SQLite file, opened read-only: catalog, counts and batched reads in key or rowid order.
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import Database from 'better-sqlite3';
import type { Batch, BatchColumn, BatchReject, IrValue } from '../../core/batch.js';
import type { Catalog, LogicalKind, LogicalType, TableDef } from '../../core/catalog.js';
import { ConfigError, ConnectionError } from '../../core/errors.js';
import type { ReadOptions, SourceCapabilities, SourceConnector } from '../connector.js';
import { filePathOf } from '../endpoint.js';
import { applyDatePolicy, DATE_KINDS, rangeCuts, type SourceOptions, type ZeroDatePolicy } from '../source-options.js';
import { invalidEncodingReject, invalidUtf8Offset } from '../text-encoding.js';
import { SqliteIntrospector, quoteSqlite } from './sqlite-introspector.js';

const DEFAULT_BATCH_SIZE = 10_000;
const ROWID_ALIASES = ['rowid', '_rowid_', 'oid'];

/**
 * A SQLite source from `sqlite:///abs/path` or `sqlite:relative/path` (relative to the working directory), opened
 * read-only; the file must exist. Call `connect()` before anything else.
 *
 * Reads: tables with a primary key by keyset pagination in key order; tables without one by rowid (stable order),
 * `lastKey` null. `ReadOptions.offset` is the position of the resume point: without `afterKey` that many rows are
 * skipped; with `afterKey` the key locates it and `offset` only numbers the batches. Values whose storage class
 * differs from the column's declared affinity are returned as stored (integer as number when safe, else string).
 * Text that is not valid UTF-8 and dates PostgreSQL cannot store are reported as batch `rejects` (raw bytes kept).
 */
export class SqliteSource implements SourceConnector {
  readonly dialect = 'sqlite';
  readonly database: string;
  readonly capabilities: SourceCapabilities = { supportsKeysetPagination: true, hasStableRowOrder: true };
  /** Absolute path of the database file. */
  readonly path: string;
  private db: Database.Database | undefined;
  private introspector: SqliteIntrospector | undefined;

  private readonly zeroDates: ZeroDatePolicy;

  constructor(url: string, options: SourceOptions = {}) {
    this.zeroDates = options.zeroDates ?? 'error';
    if (!/^sqlite:/i.test(url)) {
      throw new ConfigError(`SQLite URL must start with sqlite: (got scheme "${url.split(':')[0] ?? ''}:")`, {
        hint: 'write sqlite:///absolute/path.db or sqlite:relative/path.db',
      });
    }
    this.path = filePathOf(url, process.cwd());
    this.database = basename(this.path);
  }

  /** Open the file read-only and check that it is a SQLite database. */
  async connect(): Promise<void> {
    if (this.db) return;
    const hint = 'check the path in the URL and that the file is a SQLite database readable by this user';
    if (!existsSync(this.path)) {
      throw new ConnectionError(`SQLite database file ${this.path} does not exist`, { hint });
    }
    if (statSync(this.path).isDirectory()) {
      throw new ConnectionError(`SQLite database path ${this.path} is a directory`, { hint });
    }
    let db: Database.Database;
    try {
      db = new Database(this.path, { readonly: true, fileMustExist: true });
    } catch (e) {
      throw new ConnectionError(`cannot open SQLite database ${this.path}: ${sqliteReason(e)}`, { hint, cause: e });
    }
    try {
      // Opening is lazy: the header is only read by the first statement.
      db.prepare('SELECT count(*) FROM sqlite_schema').get();
    } catch (e) {
      db.close();
      const notDb = (e as { code?: string }).code === 'SQLITE_NOTADB';
      throw new ConnectionError(
        notDb ? `${this.path} is not a SQLite database` : `cannot read SQLite database ${this.path}: ${sqliteReason(e)}`,
        { hint, cause: e },
      );
    }
    this.db = db;
    this.introspector = new SqliteIntrospector(db, this.database);
  }

  async catalog(options: { withCounts?: boolean } = {}): Promise<Catalog> {
    const intro = this.requireIntrospector();
    return this.guard('read the catalog', () => intro.catalog(options));
  }

  async countRows(table: TableDef): Promise<number> {
    const intro = this.requireIntrospector();
    return this.guard(`count table ${table.name}`, () => intro.countRows(table.name));
  }

  /** Key tuples at even row positions in key order (`LIMIT 1 OFFSET n`), in canonical form like `lastKey`. */
  async splitKeys(table: TableDef, parts: number, align = 1, rows?: number): Promise<IrValue[][]> {
    const db = this.requireDb();
    const cols = table.columns.filter((c) => !c.isGenerated);
    const keyCols = table.primaryKey.map((k) => cols.find((c) => c.name === k));
    if (parts < 2 || keyCols.length === 0 || !keyCols.every((c) => c !== undefined)) return [];
    const total = rows ?? (await this.countRows(table));
    const convert = keyCols.map((c) => converterFor(c!.logicalType));
    const list = table.primaryKey.map(quoteSqlite).join(', ');
    const stmt = this.guard(`split table ${table.name}`, () =>
      db.prepare(`SELECT ${list} FROM main.${quoteSqlite(table.name)} ORDER BY ${list} LIMIT 1 OFFSET ?`).raw(true).safeIntegers(true),
    );
    const keys: IrValue[][] = [];
    for (const at of rangeCuts(total, parts, align)) {
      const row = this.guard(`split table ${table.name}`, () => stmt.get(at) as unknown[] | undefined);
      if (row) keys.push(row.map((v, j) => convert[j]!(v)));
    }
    return keys;
  }

  async *readBatches(table: TableDef, options: ReadOptions = {}): AsyncIterable<Batch> {
    const db = this.requireDb();
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize <= 0) {
      throw new ConfigError(`batch size for table ${table.name} must be a positive integer`, { hint: 'set strategy.batch_size to e.g. 10000' });
    }
    const cols = table.columns.filter((c) => !c.isGenerated);
    const columns: BatchColumn[] = cols.map((c) => ({
      name: c.name,
      declaredType: c.declaredType,
      logicalType: c.logicalType,
      encoding: 'utf8',
    }));
    const convert = cols.map((c) => converterFor(c.logicalType));
    const dateLike = cols.map((c) => DATE_KINDS.has(c.logicalType.kind));
    const keyIdx = table.primaryKey.map((k) => cols.findIndex((c) => c.name === k));
    const keyed = keyIdx.length > 0 && keyIdx.every((i) => i >= 0);
    const allNames = new Set(table.columns.map((c) => c.name.toLowerCase()));
    const rowid = keyed ? undefined : ROWID_ALIASES.find((a) => !allNames.has(a));

    // The ordering "key": primary key columns, the rowid, or (no rowid alias free) every column with OFFSET paging.
    const orderCols = keyed ? table.primaryKey.map(quoteSqlite) : rowid ? [rowid] : cols.map((c) => quoteSqlite(c.name));
    const selectList = [...(rowid ? [rowid] : []), ...cols.map((c) => quoteSqlite(c.name))].join(', ');
    const from = `main.${quoteSqlite(table.name)}`;
    const extra = rowid ? 1 : 0;
    const byKeyset = keyed || rowid !== undefined;

    let after: unknown[] | null = null;
    if (options.afterKey != null) {
      if (!keyed) {
        throw new ConfigError(`afterKey given for table ${table.name}, which has no primary key`, { hint: 'resume tables without a key with offset' });
      }
      if (options.afterKey.length !== table.primaryKey.length) {
        throw new ConfigError(
          `afterKey for table ${table.name} has ${options.afterKey.length} values but its primary key has ${table.primaryKey.length} columns`,
          { hint: 'pass the lastKey of a batch of this table' },
        );
      }
      after = options.afterKey.map((v, i) => toStorage(v, cols[keyIdx[i]!]!.logicalType.kind));
    }
    const untilKey = options.untilKey ?? null;
    if (untilKey !== null && (!keyed || untilKey.length !== table.primaryKey.length)) {
      throw new ConfigError(`untilKey for table ${table.name} does not match its primary key (${table.primaryKey.join(', ') || 'none'})`, {
        hint: 'pass a key tuple from splitKeys of this table',
      });
    }
    const until = untilKey?.map((v, i) => toStorage(v, cols[keyIdx[i]!]!.logicalType.kind)) ?? null;
    let offset = options.offset ?? 0;
    let skip = after !== null ? 0 : offset;
    const statements = new Map<string, Database.Statement>();

    for (;;) {
      const bounds = [
        ...(after === null ? [] : [`(${orderCols.join(', ')}) > (${orderCols.map(() => '?').join(', ')})`]),
        ...(until === null ? [] : [`(${orderCols.join(', ')}) <= (${orderCols.map(() => '?').join(', ')})`]),
      ];
      const where = bounds.length > 0 ? ` WHERE ${bounds.join(' AND ')}` : '';
      const sql = `SELECT ${selectList} FROM ${from}${where} ORDER BY ${orderCols.join(', ')} LIMIT ?${skip > 0 ? ' OFFSET ?' : ''}`;
      const params = [...(after ?? []), ...(until ?? []), batchSize, ...(skip > 0 ? [skip] : [])];
      const rows = this.guard(`read table ${table.name}`, () => {
        let stmt = statements.get(sql);
        if (!stmt) {
          stmt = db.prepare(sql).raw(true).safeIntegers(true);
          statements.set(sql, stmt);
        }
        return stmt.all(...params) as unknown[][];
      });
      if (rows.length === 0) return;

      const values: IrValue[][] = cols.map(() => new Array<IrValue>(rows.length));
      const rejects: BatchReject[] = [];
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r]!;
        for (let c = 0; c < cols.length; c++) {
          let v = convert[c]!(row[c + extra]);
          if (typeof v === 'string') {
            // SQLite never checks encodings and the driver turns invalid UTF-8 into U+FFFD: look at the stored bytes.
            if (v.includes('\uFFFD')) v = this.checkBytes(db, { from, orderCols, row, extra, keyIdx, keyed, col: cols[c]!.name, r, table: table.name }, v, rejects);
            else if (dateLike[c]) v = applyDatePolicy(v, this.zeroDates, table.name, cols[c]!.name, r, rejects);
          }
          values[c]![r] = v;
        }
      }
      const last = rows[rows.length - 1]!;
      const lastKey = keyed ? keyIdx.map((i) => values[i]![rows.length - 1]!) : null;
      yield { table: table.name, columns, values, rowCount: rows.length, lastKey, offset, ...(rejects.length > 0 ? { rejects } : {}) };

      offset += rows.length;
      if (rows.length < batchSize) return;
      if (byKeyset) {
        // Continue from the stored values themselves, not their canonical forms: exact for every storage class.
        after = keyed ? keyIdx.map((i) => last[i + extra]) : [last[0]];
        skip = 0;
      } else {
        skip = offset;
      }
    }
  }

  /** About `rows` rows kept by a random filter in one scan inside SQLite (only the sample is converted). */
  async sampleRows(table: TableDef, rows: number): Promise<Batch> {
    const db = this.requireDb();
    const total = table.rowCount ?? (await this.countRows(table));
    const cols = table.columns.filter((c) => !c.isGenerated);
    const convert = cols.map((c) => converterFor(c.logicalType));
    const perMillion = total === 0 ? 1_000_000 : Math.min(1_000_000, Math.ceil((1_000_000 * (rows + 4 * Math.sqrt(rows) + 10)) / total));
    const sql = `SELECT ${cols.map((c) => quoteSqlite(c.name)).join(', ')} FROM main.${quoteSqlite(table.name)} WHERE abs(random() % 1000000) < ? ORDER BY random() LIMIT ?`;
    const raw = this.guard(`sample table ${table.name}`, () => db.prepare(sql).raw(true).safeIntegers(true).all(perMillion, Math.floor(rows)) as unknown[][]);
    const values: IrValue[][] = cols.map((_, c) => raw.map((r) => convert[c]!(r[c])));
    const columns: BatchColumn[] = cols.map((c) => ({ name: c.name, declaredType: c.declaredType, logicalType: c.logicalType, encoding: 'utf8' }));
    return { table: table.name, columns, values, rowCount: raw.length, lastKey: null, offset: 0 };
  }

  /**
   * One `IN (…)` query; the column's affinity converts the values (text '42' finds integer 42 in an INTEGER column).
   * Integers are bound as 64-bit integers, so a column without affinity still compares them as stored.
   */
  async countMatches(table: TableDef, column: string, values: ReadonlyArray<string | number>): Promise<number> {
    if (values.length === 0) return 0;
    const db = this.requireDb();
    const sql = `SELECT count(DISTINCT ${quoteSqlite(column)}) FROM main.${quoteSqlite(table.name)} WHERE ${quoteSqlite(column)} IN (${values.map(() => '?').join(', ')})`;
    const params = values.map((v) => (typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : v));
    const row = this.guard(`match values of column ${column} in table ${table.name}`, () => db.prepare(sql).raw(true).get(...params) as unknown[]);
    return Number(row[0]);
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    this.introspector = undefined;
    db?.close();
  }

  /**
   * A text value that decoded with U+FFFD: read its stored bytes by the row's order key. Valid UTF-8 (a real U+FFFD)
   * is kept; otherwise the raw bytes are handed out for the error queue and the row is rejected with the byte offset.
   */
  private checkBytes(
    db: Database.Database,
    at: { from: string; orderCols: string[]; row: unknown[]; extra: number; keyIdx: number[]; keyed: boolean; col: string; r: number; table: string },
    text: string,
    rejects: BatchReject[],
  ): IrValue {
    if (!at.keyed && at.extra === 0) return text;
    const keyVals = at.keyed ? at.keyIdx.map((i) => at.row[i + at.extra]) : [at.row[0]];
    const sql = `SELECT CAST(${quoteSqlite(at.col)} AS BLOB) FROM ${at.from} WHERE (${at.orderCols.join(', ')}) = (${keyVals.map(() => '?').join(', ')})`;
    const raw = db.prepare(sql).raw(true).safeIntegers(true).get(...keyVals) as unknown[] | undefined;
    const bytes = raw?.[0];
    if (!Buffer.isBuffer(bytes)) return text;
    const offset = invalidUtf8Offset(bytes);
    if (offset < 0) return text;
    rejects.push(invalidEncodingReject({ table: at.table, column: at.col, row: at.r }, offset));
    return bytes;
  }

  async replayQuery(sql: string): Promise<{ columns: string[]; rows: unknown[][] }> {
    // The handle is opened read-only: a statement that writes fails.
    const stmt = this.requireDb().prepare(sql);
    if (!stmt.reader) throw new ConfigError('the query returns no rows: only SELECT queries can be replayed', { hint: 'fix queries[].source in the configuration' });
    return { columns: stmt.columns().map((c) => c.name), rows: stmt.raw(true).all() as unknown[][] };
  }

  private requireDb(): Database.Database {
    if (!this.db) {
      throw new ConnectionError(`SQLite source ${this.path} is not open`, { hint: 'call connect() (openSource does) before reading' });
    }
    return this.db;
  }

  private requireIntrospector(): SqliteIntrospector {
    this.requireDb();
    return this.introspector!;
  }

  private guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ConnectionError || e instanceof ConfigError) throw e;
      throw new ConnectionError(`SQLite could not ${what} in ${this.path}: ${sqliteReason(e)}`, {
        hint: /no such table/i.test(String((e as Error).message))
          ? 'read the catalog again: the table may have been dropped or renamed'
          : 'check that the file is an intact SQLite database',
        cause: e,
      });
    }
  }
}

/** SQLite's own message (it names objects, never bound values) with its code. */
function sqliteReason(e: unknown): string {
  const code = (e as { code?: string }).code;
  const message = e instanceof Error ? e.message : String(e);
  return code ? `${message} (${code})` : message;
}

type Converter = (v: unknown) => IrValue;

/** A value as stored: integers as numbers when exact, else as digit strings. */
const asStored: Converter = (v) => {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  return v as IrValue;
};

/** Stored value → canonical IR value for the declared logical type; other storage classes pass through as stored. */
function converterFor(type: LogicalType): Converter {
  switch (type.kind) {
    case 'int64':
      return (v) => (typeof v === 'bigint' ? v.toString() : asStored(v));
    case 'boolean':
      return (v) => (v === 0n ? false : v === 1n ? true : asStored(v));
    case 'decimal': {
      const scale = type.scale ?? 0;
      return (v) => {
        if (typeof v === 'bigint') return padScale(v.toString(), scale);
        if (typeof v === 'number' && Number.isFinite(v)) return padScale(plainNumber(v), scale);
        return asStored(v);
      };
    }
    default:
      return asStored;
  }
}

/** A canonical key value back to what SQLite stores, so comparisons see the same storage class. */
function toStorage(v: IrValue, kind: LogicalKind): unknown {
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v) && (kind === 'int64' || kind === 'decimal')) return BigInt(v);
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  return v;
}

/** The shortest round-trip decimal text of a double, without exponent notation. */
export function plainNumber(n: number): string {
  const s = String(n);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/i.exec(s);
  if (!m) return s;
  const [, sign, intPart, frac = '', expText] = m;
  const digits = `${intPart}${frac}`;
  const point = (intPart ?? '').length + Number(expText);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Pad the fraction to the declared scale (SQLite stores 100.00 as the integer 100); never drops digits. */
function padScale(text: string, scale: number): string {
  if (scale <= 0) return text;
  const dot = text.indexOf('.');
  const have = dot < 0 ? 0 : text.length - dot - 1;
  if (have >= scale) return text;
  return `${text}${dot < 0 ? '.' : ''}${'0'.repeat(scale - have)}`;
}
