// The embedded PGlite target: PostgreSQL in process, bulk loads with COPY FROM '/dev/blob' instead of a stream.
import { AsyncLocalStorage } from 'node:async_hooks';
import { basename, resolve } from 'node:path';
import { PGlite, type ParserOptions, type Results, type SerializerOptions, type Transaction } from '@electric-sql/pglite';
import type { Catalog } from '../../core/catalog.js';
import { ConnectionError } from '../../core/errors.js';
import type { QueryResult, TargetCapabilities, TargetConnector, TargetSession } from '../connector.js';
import { introspectPostgres } from '../postgres/postgres-introspector.js';

/** Where the embedded database lives: a data directory (created when missing) or memory only. */
export type PgliteLocation = { dataDir: string } | { memory: true };

/** Per-query options: raw-text parsers, pg-like serializers, rows as objects. */
interface RunOptions {
  parsers: ParserOptions;
  serializers: SerializerOptions;
  rowMode: 'object';
}

// Two PGlite instances on one data dir corrupt it: every open dir of this process is held here by absolute path.
const openDataDirs = new Set<string>();

// The same session settings as the PostgreSQL connectors, so both targets print values alike.
const SESSION_SQL =
  "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET extra_float_digits = 3; SET IntervalStyle = 'postgres'; SET bytea_output = 'hex'";

/**
 * An in-process PGlite database as a target. Call `connect()` before use. One session at a time: `transaction`
 * holds the database until it ends, and other calls wait. Query results are raw text like the PostgreSQL target's;
 * query errors are PGlite's own (`message`, SQLSTATE `code`) with the parameters and blob removed.
 */
export class PgliteTarget implements TargetConnector {
  readonly dialect = 'pglite';
  /** The data dir's base name, or `memory`. */
  readonly database: string;
  readonly schema = 'public';
  readonly capabilities: TargetCapabilities = {
    bulkWrite: 'blob-copy',
    supportsTransactionalDdl: true,
    supportsConcurrentSessions: false,
  };
  /** Absolute data dir, or null in memory. */
  readonly dataDir: string | null;
  #db: PGlite | null = null;
  #options: RunOptions | null = null;
  #opening: Promise<void> | null = null;
  readonly #inTransaction = new AsyncLocalStorage<true>();

  constructor(location: PgliteLocation) {
    this.dataDir = 'dataDir' in location ? resolve(location.dataDir) : null;
    this.database = this.dataDir === null ? 'memory' : basename(this.dataDir);
  }

  /** Starts PGlite (creating the data dir on first use). Throws ConnectionError when this process has the dir open already. */
  async connect(): Promise<void> {
    // Concurrent calls share one start, so they cannot trip the registry over each other.
    this.#opening ??= this.#open().catch((e: unknown) => {
      this.#opening = null;
      throw e;
    });
    return this.#opening;
  }

  async #open(): Promise<void> {
    const dir = this.dataDir;
    if (dir !== null) {
      if (openDataDirs.has(dir)) {
        throw new ConnectionError(`PGlite data dir ${dir} is already open in this process`, {
          hint: 'close the other connector on this data dir first (two PGlite instances on one dir corrupt it), or stop the other Sensei process using it',
        });
      }
      openDataDirs.add(dir);
    }
    let started: PGlite | undefined;
    try {
      started = dir === null ? await PGlite.create() : await PGlite.create(dir);
      await started.exec(SESSION_SQL);
    } catch (e) {
      await started?.close().catch(() => {});
      if (dir !== null) openDataDirs.delete(dir);
      throw new ConnectionError(`cannot open PGlite ${dir === null ? 'in memory' : `data dir ${dir}`}: ${e instanceof Error ? e.message : String(e)}`, {
        hint: 'check that the directory is writable and is a PGlite data dir (or empty), and that no other process uses it',
        cause: e,
      });
    }
    this.#db = started;
    this.#options = { parsers: textParsers(started), serializers: pgLikeSerializers(started), rowMode: 'object' };
  }

  async catalog(options: { withCounts?: boolean } = {}): Promise<Catalog> {
    return introspectPostgres((sql, params) => this.query(sql, params), {
      schema: this.schema,
      dialect: this.dialect,
      database: this.database,
      withCounts: options.withCounts ?? false,
    });
  }

  /** Without parameters the SQL may hold several statements; the result is the last statement's. */
  async query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
    const db = this.#connected();
    if (this.#inTransaction.getStore()) {
      throw new ConnectionError('PGlite target: query() was called inside its own transaction, which would wait forever', {
        hint: "use the session given to transaction()'s callback",
      });
    }
    return run<R>(db, this.#options!, sql, params);
  }

  async transaction<T>(fn: (session: TargetSession) => Promise<T>): Promise<T> {
    const db = this.#connected();
    const options = this.#options!;
    if (this.#inTransaction.getStore()) {
      throw new ConnectionError('PGlite target: transaction() was called inside its own transaction, which would wait forever', {
        hint: "use the session given to the outer transaction()'s callback (SAVEPOINT for a nested scope)",
      });
    }
    return db.transaction((tx) => {
      // The Transaction object's query() accepts the blob option, so COPY runs inside the transaction.
      const session: TargetSession = {
        query: (sql, params) => run(tx, options, sql, params),
        copyFrom: (table, columns, data) => copyFrom(tx, options, table, columns, data),
      };
      return this.#inTransaction.run(true, () => fn(session));
    });
  }

  async close(): Promise<void> {
    const db = this.#db;
    if (!db) return;
    this.#db = null;
    this.#opening = null;
    try {
      await db.close();
    } finally {
      if (this.dataDir !== null) openDataDirs.delete(this.dataDir);
    }
  }

  #connected(): PGlite {
    if (!this.#db) {
      throw new ConnectionError(`PGlite target ${this.dataDir ?? 'in memory'} is not connected`, {
        hint: 'call connect() first (openTarget does), and do not use the target after close()',
      });
    }
    return this.#db;
  }
}

type Runner = Pick<Transaction, 'query' | 'exec'>;

async function run<R>(on: Runner, options: RunOptions, sql: string, params?: unknown[]): Promise<QueryResult<R>> {
  try {
    let res: Results<R> | undefined;
    if (params === undefined || params.length === 0) {
      // Simple protocol, like pg without parameters: several statements allowed, one result each.
      const all = (await on.exec(sql, options)) as Results<R>[];
      res = all[all.length - 1];
    } else {
      res = await on.query<R>(sql, params, options);
    }
    const rows = res?.rows ?? [];
    return { rows, rowCount: res?.rowCount ?? rows.length };
  } catch (e) {
    throw withoutValues(e);
  }
}

async function copyFrom(tx: Runner, options: RunOptions, table: string, columns: string[], data: string | Buffer): Promise<number> {
  const cols = columns.map((c) => `"${c.replaceAll('"', '""')}"`).join(', ');
  try {
    const res = await tx.query(`COPY ${table} (${cols}) FROM '/dev/blob'`, [], { ...options, blob: new Blob([data]) });
    return res.rowCount ?? res.affectedRows ?? 0;
  } catch (e) {
    throw withoutValues(e);
  }
}

/** Every type PGlite would parse returns its text instead; types it does not know are text already. */
function textParsers(db: PGlite): ParserOptions {
  const text = (value: string) => value;
  return Object.fromEntries(Object.keys(db.parsers).map((oid) => [oid, text]));
}

/** Strings go to PostgreSQL as typed, as with `pg` (PGlite's own bytea serializer would refuse `\x…` text). */
function pgLikeSerializers(db: PGlite): SerializerOptions {
  return Object.fromEntries(
    Object.entries(db.serializers).map(([oid, serialize]) => [oid, (v: unknown) => (typeof v === 'string' ? v : serialize(v))]),
  );
}

// PGlite attaches the parameters and the query options (with the COPY blob) to its errors: row values must not travel on.
function withoutValues(e: unknown): unknown {
  if (e && typeof e === 'object') {
    for (const k of ['params', 'queryOptions'] as const) if (k in e) Reflect.deleteProperty(e, k);
  }
  return e;
}
