// The PostgreSQL server target: DDL and SQL over a pg.Pool, bulk loads with COPY FROM STDIN (pg-copy-streams).
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFromStdin, to as copyToStdout } from 'pg-copy-streams';
import type { Catalog } from '../../core/catalog.js';
import { ConnectionError } from '../../core/errors.js';
import type { QueryResult, TargetCapabilities, TargetConnector, TargetSession } from '../connector.js';
import { introspectPostgres } from './postgres-introspector.js';
import {
  createPostgresPool,
  parsePostgresUrl,
  postgresConnectionError,
  type PostgresEndpoint,
} from './postgres-source.js';

/**
 * Writes into one schema of a PostgreSQL database (`?schema=NAME`, default `public`). Call `connect()` before use.
 * Query results are raw text: every value arrives as PostgreSQL prints it (sessions use TimeZone UTC, DateStyle ISO).
 * Query errors are the driver's own (`message`, SQLSTATE `code`), not wrapped.
 */
export class PostgresTarget implements TargetConnector {
  readonly dialect = 'postgres';
  readonly database: string;
  readonly schema: string;
  readonly capabilities: TargetCapabilities = {
    bulkWrite: 'copy-stream',
    supportsTransactionalDdl: true,
    supportsConcurrentSessions: true,
  };
  readonly #endpoint: PostgresEndpoint;
  #pool: pg.Pool | null = null;

  constructor(url: string) {
    this.#endpoint = parsePostgresUrl(url, 'target');
    this.database = this.#endpoint.database;
    this.schema = this.#endpoint.schema;
  }

  /** Opens the pool (at most 8 connections) and checks the server answers. */
  async connect(): Promise<void> {
    if (this.#pool) return;
    const pool = createPostgresPool(this.#endpoint, 8);
    try {
      await pool.query('SELECT 1');
    } catch (e) {
      await pool.end().catch(() => {});
      throw postgresConnectionError(this.#endpoint, 'target', e);
    }
    this.#pool = pool;
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
    return runQuery<R>(this.#connected(), sql, params);
  }

  async transaction<T>(fn: (session: TargetSession) => Promise<T>): Promise<T> {
    const client = await this.#connected().connect();
    let broken: Error | undefined;
    // A connection killed while checked out (between two statements) reports here; without a listener the process
    // would crash. The next statement then fails and the caller decides (retry from the checkpoint).
    const onError = (e: Error): void => {
      broken = e;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const session: TargetSession = {
        query: (sql, params) => runQuery(client, sql, params),
        copyFrom: (table, columns, data) => copyFrom(client, table, columns, data),
        copyTo: (sql, onText) => copyTo(this.#connected(), client, sql, onText),
      };
      let result: T;
      try {
        result = await fn(session);
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          // The connection is unusable; it must not go back to the pool.
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        }
        throw e;
      }
      await client.query('COMMIT');
      return result;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = null;
    await pool?.end();
  }

  #connected(): pg.Pool {
    if (!this.#pool) {
      throw new ConnectionError(`PostgreSQL target ${this.#endpoint.label} is not connected`, {
        hint: 'call connect() first (openTarget does), and do not use the target after close()',
      });
    }
    return this.#pool;
  }
}

async function runQuery<R>(on: pg.Pool | pg.PoolClient, sql: string, params?: unknown[]): Promise<QueryResult<R>> {
  const res = (await on.query(sql, params)) as pg.QueryResult | pg.QueryResult[];
  // A multi-statement simple query answers with one result per statement.
  const last = Array.isArray(res) ? res[res.length - 1] : res;
  const rows = (last?.rows ?? []) as R[];
  return { rows, rowCount: last?.rowCount ?? rows.length };
}

async function copyFrom(client: pg.PoolClient, table: string, columns: string[], data: string | Buffer): Promise<number> {
  const cols = columns.map((c) => `"${c.replaceAll('"', '""')}"`).join(', ');
  const stream = client.query(copyFromStdin(`COPY ${table} (${cols}) FROM STDIN`));
  await pipeline(Readable.from([typeof data === 'string' ? Buffer.from(data, 'utf8') : data]), stream);
  return stream.rowCount;
}

/**
 * `COPY (sql) TO STDOUT` on `client`, each arriving piece of text to `onText`. The copy stream owns the connection's
 * socket until the server ends the statement, so it is read to its end whatever happens: when `onText` fails, the
 * statement is cancelled from another connection of the pool (the server then ends it at once with an error, which is
 * expected and dropped) and `onText`'s error is thrown, leaving the session usable (its transaction to roll back).
 */
async function copyTo(pool: pg.Pool, client: pg.PoolClient, sql: string, onText: (text: string) => Promise<void> | void): Promise<void> {
  const stream = client.query(copyToStdout(`COPY (${sql}) TO STDOUT`));
  const decoder = new StringDecoder('utf8');
  let failed: { error: unknown } | null = null;
  const fail = async (error: unknown): Promise<void> => {
    failed = { error };
    // node-postgres keeps the backend's pid on the client (from BackendKeyData), not in its type declarations.
    const pid = (client as pg.PoolClient & { processID: number | null }).processID;
    await pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
  };
  try {
    for await (const chunk of stream) {
      if (failed) continue;
      try {
        await onText(decoder.write(chunk as Buffer));
      } catch (e) {
        await fail(e);
      }
    }
    if (!failed) {
      const rest = decoder.end();
      if (rest) await onText(rest);
    }
  } catch (e) {
    // The server's own error, unless it is the end of a statement cancelled above.
    if (!failed) throw e;
  }
  if (failed) throw (failed as { error: unknown }).error;
}
