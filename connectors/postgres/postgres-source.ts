// The PostgreSQL source: catalog from pg_catalog, batched reads in key order, values in the IR's canonical forms.
import pg from 'pg';
import type { Batch, BatchColumn, BatchReject, IrValue } from '../../core/batch.js';
import type { Catalog, ColumnDef, LogicalKind, TableDef } from '../../core/catalog.js';
import { ConfigError, ConnectionError, PlanError } from '../../core/errors.js';
import type { ReadOptions, SourceCapabilities, SourceConnector } from '../connector.js';
import { introspectPostgres } from './postgres-introspector.js';
import { rangeCuts, type SourceOptions } from '../source-options.js';
import { declaredEncoding, decodeDeclared, encodeDeclared, invalidEncodingReject, type DeclaredEncoding } from '../text-encoding.js';

/** Where a `postgres://` URL points, with Sensei's own `?schema=` taken out. */
export interface PostgresEndpoint {
  /** The URL as handed to `pg` (without `schema`). Contains the password: never print it. */
  connectionString: string;
  /** From `?schema=`; default `public`. */
  schema: string;
  /** From `?encoding=` (sources): what text of a `SQL_ASCII` database is meant to be; default `utf8`. */
  textEncoding: DeclaredEncoding;
  host: string;
  port: string;
  database: string;
  /** `host:port/database`, for messages. */
  label: string;
  /** Decoded and encoded forms of the password, scrubbed from every message. Empty when there is none. */
  secrets: string[];
}

/** Parses a `postgres://` / `postgresql://` URL. Throws ConfigError on anything else. */
export function parsePostgresUrl(url: string, role: 'source' | 'target'): PostgresEndpoint {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`${role}: the PostgreSQL URL cannot be parsed`, {
      hint: 'write it as postgres://user@host:5432/database (the password as a credentials reference)',
    });
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new ConfigError(`${role}: ${u.protocol}// is not a PostgreSQL URL`, { hint: 'use postgres:// or postgresql://' });
  }
  const schema = u.searchParams.get('schema') ?? 'public';
  if (schema === '') throw new ConfigError(`${role}: ?schema= is empty in the PostgreSQL URL`, { hint: 'name a schema or leave the parameter out (default public)' });
  u.searchParams.delete('schema');
  const encodingName = u.searchParams.get('encoding');
  const textEncoding = encodingName === null ? 'utf8' : declaredEncoding(encodingName);
  if (textEncoding === null) {
    throw new ConfigError(`${role}: ?encoding=${encodingName} in the PostgreSQL URL is not an encoding Sensei can check`, {
      hint: 'use UTF8, LATIN1 or WIN1252 (it only applies to a SQL_ASCII database), or leave it out for UTF-8',
    });
  }
  u.searchParams.delete('encoding');
  const host = u.hostname || 'localhost';
  const port = u.port || '5432';
  const database = safeDecode(u.pathname.replace(/^\//, '')) || safeDecode(u.username) || 'postgres';
  const secrets = u.password ? [...new Set([u.password, safeDecode(u.password)])] : [];
  return { connectionString: u.toString(), schema, textEncoding, host, port, database, label: `${host}:${port}/${database}`, secrets };
}

/** A ConnectionError for a failed connect, naming host:port/database and never the password. */
export function postgresConnectionError(endpoint: PostgresEndpoint, role: 'source' | 'target', cause: unknown): ConnectionError {
  const code = (cause as { code?: unknown } | null)?.code;
  const hints: Record<string, string> = {
    ECONNREFUSED: `start the PostgreSQL server or fix host and port in the ${role} URL`,
    ENOTFOUND: `check the host name in the ${role} URL`,
    EAI_AGAIN: `check the host name in the ${role} URL and the DNS`,
    ETIMEDOUT: 'check that the host is reachable (network, firewall)',
    '28P01': `check the user and the ${role} credentials reference`,
    '28000': `check the user and the ${role} credentials reference, and pg_hba.conf on the server`,
    '3D000': `create database ${endpoint.database} or fix the database name in the ${role} URL`,
  };
  const hint = (typeof code === 'string' ? hints[code] : undefined) ?? `check the ${role} URL and that the server accepts connections`;
  return new ConnectionError(
    `cannot connect to PostgreSQL ${role} at ${endpoint.label}: ${scrub(errorMessage(cause), endpoint.secrets)}`,
    { hint },
  );
}

/** Session settings that make PostgreSQL print every value the way the canonical forms expect. */
export const POSTGRES_SESSION_SQL =
  "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET extra_float_digits = 3; SET IntervalStyle = 'postgres'; SET bytea_output = 'hex'";

/** Every value arrives as PostgreSQL prints it; conversion to canonical forms happens by logical type. */
/**
 * A pool with Sensei's session settings on every connection and raw-text results. An idle client dropped by the
 * server must not crash the process: the pool swallows that event and the next query reconnects or reports it.
 */
export function createPostgresPool(endpoint: PostgresEndpoint, max: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString: endpoint.connectionString,
    types: RAW_TEXT_TYPES,
    max,
    connectionTimeoutMillis: 15_000,
    onConnect: async (client) => {
      await client.query(POSTGRES_SESSION_SQL);
    },
  });
  pool.on('error', () => {});
  return pool;
}

export const RAW_TEXT_TYPES = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

/**
 * Reads one schema of a PostgreSQL database (`?schema=NAME` in the URL, default `public`). Call `connect()` before
 * use. Reads are keyset-paginated on the primary key; tables without one are read in the order of all their columns
 * with LIMIT/OFFSET.
 */
export class PostgresSource implements SourceConnector {
  readonly dialect = 'postgres';
  readonly database: string;
  /** The schema read. Default `public`. */
  readonly schema: string;
  readonly capabilities: SourceCapabilities = { supportsKeysetPagination: true, hasStableRowOrder: false };
  readonly #endpoint: PostgresEndpoint;
  #pool: pg.Pool | null = null;
  /** The database is `SQL_ASCII`: the server stores and sends text bytes unchecked, so Sensei checks them. */
  #uncheckedText = false;

  /**
   * `_options`: nothing to apply — PostgreSQL cannot hold a date it could not store. In a `SQL_ASCII` database the
   * server checks no text bytes: text columns are read as bytes and checked against `?encoding=` (default UTF-8);
   * a value that is not valid goes to the batch's `rejects` (rule `invalid_encoding`, with the byte offset).
   */
  constructor(url: string, _options: SourceOptions = {}) {
    this.#endpoint = parsePostgresUrl(url, 'source');
    this.database = this.#endpoint.database;
    this.schema = this.#endpoint.schema;
  }

  /** Opens the pool and checks the server answers and the schema exists. */
  async connect(): Promise<void> {
    if (this.#pool) return;
    const pool = createPostgresPool(this.#endpoint, 4);
    let exists: boolean;
    try {
      const res = await pool.query(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1) AS e, current_setting('server_encoding') AS enc",
        [this.schema],
      );
      const row = res.rows[0] as { e: string; enc: string };
      exists = row.e === 't';
      this.#uncheckedText = row.enc === 'SQL_ASCII';
    } catch (e) {
      await pool.end().catch(() => {});
      throw postgresConnectionError(this.#endpoint, 'source', e);
    }
    if (!exists) {
      await pool.end().catch(() => {});
      throw new ConfigError(`source: schema "${this.schema}" does not exist in ${this.#endpoint.label}`, {
        hint: 'fix ?schema= in the source URL (default public)',
      });
    }
    this.#pool = pool;
  }

  async replayQuery(sql: string): Promise<{ columns: string[]; rows: unknown[][] }> {
    const client = await this.#connected().connect();
    try {
      await client.query('BEGIN TRANSACTION READ ONLY');
      const res = await client.query({ text: sql, rowMode: 'array' });
      return { columns: res.fields.map((f) => f.name), rows: res.rows as unknown[][] };
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  }

  async catalog(options: { withCounts?: boolean } = {}): Promise<Catalog> {
    const pool = this.#connected();
    try {
      return await introspectPostgres((sql, params) => pool.query(sql, params), {
        schema: this.schema,
        dialect: this.dialect,
        database: this.database,
        withCounts: options.withCounts ?? false,
      });
    } catch (e) {
      throw this.#readError(`reading the catalog of schema "${this.schema}"`, e);
    }
  }

  async countRows(table: TableDef): Promise<number> {
    const pool = this.#connected();
    try {
      const res = await pool.query(`SELECT count(*) AS n FROM ${this.#from(table)}`);
      return Number((res.rows[0] as { n: string }).n);
    } catch (e) {
      throw this.#readError(`counting the rows of ${this.#from(table)}`, e);
    }
  }

  /** Key tuples at even row positions in key order (`LIMIT 1 OFFSET n` over the key's index), one query per cut. */
  async splitKeys(table: TableDef, parts: number, align = 1, rows?: number): Promise<IrValue[][]> {
    const key = table.primaryKey;
    if (parts < 2 || key.length === 0) return [];
    const total = rows ?? (await this.countRows(table));
    const convert = key.map((k) => converterFor(columnOf(table, k).logicalType.kind));
    const keys: IrValue[][] = [];
    for (const at of rangeCuts(total, parts, align)) {
      let row: (string | null)[] | undefined;
      try {
        const res = await this.#connected().query({ text: `SELECT ${key.map(quoteIdent).join(', ')} FROM ${this.#from(table)} ORDER BY ${key.map(quoteIdent).join(', ')} LIMIT 1 OFFSET ${at}`, rowMode: 'array' });
        row = res.rows[0] as (string | null)[] | undefined;
      } catch (e) {
        throw this.#readError(`cutting ${this.#from(table)} into key ranges`, e);
      }
      if (row) keys.push(row.map((text, j) => (text === null ? null : convert[j]!(text))));
    }
    return keys;
  }

  /**
   * Batches of `batchSize` rows (default 10,000). With a primary key: key order, strictly after `afterKey` when
   * given, and `offset` (default 0) only numbers the batches. Without one: `offset` rows are skipped first.
   */
  async *readBatches(table: TableDef, options: ReadOptions = {}): AsyncIterable<Batch> {
    const pool = this.#connected();
    const batchSize = options.batchSize ?? 10_000;
    if (!Number.isInteger(batchSize) || batchSize <= 0) {
      throw new PlanError(`reading ${this.#from(table)}: batch size ${batchSize} is not a positive integer`, {
        hint: 'set strategy.batch_size to a positive whole number',
      });
    }
    const columns = table.columns.filter((c) => !c.isGenerated);
    const key = table.primaryKey;
    // A key column may itself be generated: it is selected for pagination but not handed out as data.
    const hiddenKey = key.filter((k) => !columns.some((c) => c.name === k));
    const selected: ColumnDef[] = [...columns, ...hiddenKey.map((k) => columnOf(table, k))];
    const convert = selected.map((c) => converterFor(c.logicalType.kind));
    const keyIdx = key.map((k) => selected.findIndex((c) => c.name === k));
    const raw = selected.map((c) => this.#uncheckedText && isText(c));
    const list = selected.map((c, i) => (raw[i] ? rawTextTerm(c) : quoteIdent(c.name))).join(', ');
    const from = this.#from(table);
    const batchColumns = this.#batchColumns(columns);
    const encoding = this.#endpoint.textEncoding;

    let offset = options.offset ?? 0;
    let after = options.afterKey ?? null;
    if (after && after.length !== key.length) {
      throw new PlanError(`reading ${from}: the resume key has ${after.length} values but the primary key has ${key.length} columns`, {
        hint: 'the checkpoint does not belong to this table: restart the table from the beginning',
      });
    }
    const until = options.untilKey ?? null;
    if (until && (key.length === 0 || until.length !== key.length)) {
      throw new PlanError(`reading ${from}: the range end has ${until.length} values but the primary key has ${key.length} columns`, {
        hint: 'pass a key tuple from splitKeys of this table',
      });
    }
    const keyList = key.map(quoteIdent).join(', ');
    const order = key.length > 0 ? keyList : selected.map(orderTerm).join(', ');

    for (;;) {
      let sql: string;
      let params: unknown[] = [];
      if (key.length > 0) {
        // Raw text keys go back as their bytes: the server compares them unchecked, exactly as stored.
        const keyParam = (v: unknown, i: number) => (raw[keyIdx[i]!] && typeof v === 'string' ? encodeDeclared(v, encoding) : v);
        const keyTerm = (i: number, n: number) => (raw[keyIdx[i]!] ? `convert_from($${n}::bytea, 'SQL_ASCII')` : `$${n}`);
        const bounds: string[] = [];
        params = [...(after ?? []).map(keyParam), ...(until ?? []).map(keyParam)];
        if (after) bounds.push(`(${keyList}) > (${after.map((_, i) => keyTerm(i, i + 1)).join(', ')})`);
        if (until) bounds.push(`(${keyList}) <= (${until.map((_, i) => keyTerm(i, (after?.length ?? 0) + i + 1)).join(', ')})`);
        const where = bounds.length > 0 ? `WHERE ${bounds.join(' AND ')} ` : '';
        sql = `SELECT ${list} FROM ${from} ${where}ORDER BY ${keyList} LIMIT ${batchSize}`;
      } else {
        sql = `SELECT ${list} FROM ${from} ORDER BY ${order} LIMIT ${batchSize} OFFSET ${offset}`;
      }
      let rows: (string | null)[][];
      try {
        rows = (await pool.query({ text: sql, values: params, rowMode: 'array' })).rows as (string | null)[][];
      } catch (e) {
        throw this.#readError(`reading ${from}`, e);
      }
      if (rows.length === 0) return;

      const values: IrValue[][] = selected.map(() => new Array<IrValue>(rows.length));
      const rejects: BatchReject[] = [];
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r]!;
        for (let c = 0; c < selected.length; c++) {
          const text = row[c] ?? null;
          if (text !== null && raw[c]) {
            const decoded = decodeDeclared(Buffer.from(text.slice(2), 'hex'), encoding);
            if ('text' in decoded) values[c]![r] = decoded.text;
            else {
              // The raw bytes are handed out for the error queue; a hidden key column is never data.
              values[c]![r] = Buffer.from(text.slice(2), 'hex');
              if (c < columns.length) rejects.push(invalidEncodingReject({ table: table.name, column: selected[c]!.name, row: r }, decoded.offset, encoding));
            }
            continue;
          }
          values[c]![r] = text === null ? null : convert[c]!(text);
        }
      }
      const last = rows.length - 1;
      const lastKey = key.length > 0 ? keyIdx.map((i) => values[i]![last] ?? null) : null;
      yield {
        table: table.name,
        columns: batchColumns,
        values: values.slice(0, columns.length),
        rowCount: rows.length,
        lastKey,
        offset,
        ...(rejects.length > 0 ? { rejects } : {}),
      };

      offset += rows.length;
      after = lastKey;
      if (rows.length < batchSize) return;
    }
  }

  /** About `rows` rows chosen by `TABLESAMPLE BERNOULLI` (the server scans; only the sample travels). */
  async sampleRows(table: TableDef, rows: number): Promise<Batch> {
    const pool = this.#connected();
    const total = table.rowCount ?? (await this.countRows(table));
    const columns = table.columns.filter((c) => !c.isGenerated);
    const convert = columns.map((c) => converterFor(c.logicalType.kind));
    const raw = columns.map((c) => this.#uncheckedText && isText(c));
    const encoding = this.#endpoint.textEncoding;
    // Four standard deviations above the wanted share, so that the LIMIT rather than chance decides the size.
    const percent = total === 0 ? 100 : Math.min(100, (100 * (rows + 4 * Math.sqrt(rows) + 10)) / total);
    const from = this.#from(table);
    let result: (string | null)[][];
    try {
      result = (await pool.query({
        // The LIMIT applies after a shuffle of the (slightly larger) sample: cutting it in table order would favour the
        // table's first rows.
        text: `SELECT * FROM (SELECT ${columns.map((c, i) => (raw[i] ? rawTextTerm(c) : quoteIdent(c.name))).join(', ')} FROM ${from} TABLESAMPLE BERNOULLI ($1)) AS s ORDER BY random() LIMIT ${Math.floor(rows)}`,
        values: [percent],
        rowMode: 'array',
      })).rows as (string | null)[][];
    } catch (e) {
      throw this.#readError(`sampling ${from}`, e);
    }
    const values: IrValue[][] = columns.map((_, c) =>
      result.map((r) => {
        const text = r[c];
        if (text == null) return null;
        if (!raw[c]) return convert[c]!(text);
        // A sample has no error queue: bytes that are not valid text stay bytes.
        const bytes = Buffer.from(text.slice(2), 'hex');
        const decoded = decodeDeclared(bytes, encoding);
        return 'text' in decoded ? decoded.text : bytes;
      }),
    );
    return { table: table.name, columns: this.#batchColumns(columns), values, rowCount: result.length, lastKey: null, offset: 0 };
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = null;
    await pool?.end();
  }

  #connected(): pg.Pool {
    if (!this.#pool) {
      throw new ConnectionError(`PostgreSQL source ${this.#endpoint.label} is not connected`, {
        hint: 'call connect() first (openSource does), and do not use the source after close()',
      });
    }
    return this.#pool;
  }

  /** Text of a `SQL_ASCII` database is decoded by Sensei from the declared encoding; everything else is UTF-8. */
  #batchColumns(columns: ColumnDef[]): BatchColumn[] {
    return columns.map((c) => ({
      name: c.name,
      declaredType: c.declaredType,
      logicalType: c.logicalType,
      encoding: this.#uncheckedText && isText(c) ? this.#endpoint.textEncoding : 'utf8',
    }));
  }

  /** One `= ANY($1)` query: PostgreSQL types the array as the column's, so a key's index answers it. */
  async countMatches(table: TableDef, column: string, values: ReadonlyArray<string | number>): Promise<number> {
    if (values.length === 0) return 0;
    const from = this.#from(table);
    try {
      const res = await this.#connected().query({
        text: `SELECT count(DISTINCT ${quoteIdent(column)}) FROM ${from} WHERE ${quoteIdent(column)} = ANY($1)`,
        values: [values],
        rowMode: 'array',
      });
      return Number((res.rows[0] as unknown[])[0]);
    } catch (e) {
      throw this.#readError(`matching values of ${from}.${quoteIdent(column)}`, e);
    }
  }

  #from(table: TableDef): string {
    return `${quoteIdent(this.schema)}.${quoteIdent(table.name)}`;
  }

  #readError(what: string, cause: unknown): ConnectionError {
    const code = (cause as { code?: unknown } | null)?.code;
    // Data exceptions (class 22) quote the offending value; only the class is reported.
    const reason =
      typeof code === 'string' && code.startsWith('22')
        ? `data exception (SQLSTATE ${code})`
        : scrub(errorMessage(cause), this.#endpoint.secrets);
    return new ConnectionError(`${what} from PostgreSQL ${this.#endpoint.label} failed: ${reason}`, {
      hint: 'check that the table still exists and the user may read it, then retry',
      cause,
    });
  }
}

/** text → canonical IR value, per logical kind (see core/batch.ts). */
function converterFor(kind: LogicalKind): (text: string) => IrValue {
  switch (kind) {
    case 'int16':
    case 'int32':
    case 'float32':
    case 'float64':
      // Number() reads 'NaN', 'Infinity' and '-Infinity' as PostgreSQL prints them.
      return (t) => Number(t);
    case 'boolean':
      return (t) => t === 't';
    case 'timestamptz':
      // With TimeZone UTC, PostgreSQL prints the offset as '+00'.
      return (t) => t.replace(/([+-]\d\d)$/, '$1:00');
    case 'bytes':
      return (t) => Buffer.from(t.slice(2), 'hex');
    default:
      // int64 and decimal stay exact strings; dates, times, text, json, uuid, interval and unknown as printed.
      return (t) => t;
  }
}

/** Character columns (and json, which is stored as text): the ones whose bytes `SQL_ASCII` leaves unchecked. */
function isText(c: ColumnDef): boolean {
  return ['char', 'varchar', 'text', 'json'].includes(c.logicalType.kind);
}

/**
 * The stored bytes of a text column, unconverted (`convert_to(…, 'SQL_ASCII')`: `textsend` would convert to the client
 * encoding and fail). char(n) gets its padding back, as its text output has it. No alias: ORDER BY must keep meaning
 * the column, not these bytes.
 */
function rawTextTerm(c: ColumnDef): string {
  const col = quoteIdent(c.name);
  return c.logicalType.kind === 'char' ? `convert_to(rpad(${col}::text, octet_length(${col})), 'SQL_ASCII')` : `convert_to(${col}::text, 'SQL_ASCII')`;
}

/** Types without a btree ordering (json, point, xml…) are ordered by their text so the order stays total. */
function orderTerm(c: ColumnDef): string {
  const orderable = c.logicalType.kind !== 'unknown' && c.declaredType !== 'json';
  return orderable ? quoteIdent(c.name) : `${quoteIdent(c.name)}::text`;
}

function columnOf(table: TableDef, name: string): ColumnDef {
  const c = table.columns.find((x) => x.name === name);
  if (!c) {
    throw new PlanError(`table ${table.name}: primary key column ${name} is not among its columns`, {
      hint: 'refresh the catalog: the table changed since it was read',
    });
  }
  return c;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function errorMessage(e: unknown): string {
  if (e instanceof AggregateError && e.errors.length > 0) return e.errors.map(errorMessage).join('; ');
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.replaceAll(s, '***');
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
