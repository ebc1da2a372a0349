// The Sensei store: runs, approvals, the encrypted error queue, certificates and LangGraph checkpoints in PostgreSQL.
import { mkdirSync } from 'node:fs';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import pg from 'pg';
import { RunStateError, StoreError } from '../../core/errors.js';
import { connectEmbeddedStoreServer, type EmbeddedStoreServer } from './embedded-store-server.js';
import { loadSecretBox, type SecretBox } from './secret-box.js';
import { applyStoreMigrations } from './store-migrations.js';

export interface OpenStoreOptions {
  /** The Sensei home directory (`SENSEI_HOME`, by default `<cwd>/.sensei`). Created with mode 0700 if missing. */
  home: string;
  /**
   * `SENSEI_STORE_URL`: a PostgreSQL server that has the `vector` extension. Default: the embedded PGlite store in
   * `<home>/store`, shared between processes through `<home>/store.lock`.
   */
  url?: string;
  /** Embedded store only: how long to wait for another process that is starting the store. Default 30,000 ms. */
  lockWaitMs?: number;
  /**
   * Embedded store only: the store template a new data dir is unpacked from. Default: the build's
   * (`dist/store-template`); `null`: create it with initdb (seconds, ~750 MB in a child process).
   */
  template?: string | null;
  /** Embedded store only: told why a new data dir is made with initdb instead of the template. Default: stderr. */
  onNotice?: (message: string) => void;
}

export interface RunRecord {
  id: string;
  status: string;
  stage: string;
  /** The run configuration as stored: inline secrets are masked before they reach the store. */
  config: unknown;
  summary: unknown;
  error: string | null;
  certificatePath: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ApprovalRecord {
  id: number;
  runId: string;
  decision: string;
  by: string;
  reason: string | null;
  detail: unknown;
  at: string;
}

/**
 * A row that could not be migrated. `key`, `row` and `reason` may contain source values: they are stored only
 * encrypted. `table`, `column`, `rule` and `stage` are stored in clear for counting and filtering, so they must
 * never carry a value.
 */
export interface ErrorEntry {
  table: string;
  column: string | null;
  rule: string;
  stage: string;
  key: unknown;
  row: unknown;
  reason: string;
}

export interface CertificateRecord {
  runId: string;
  body: string;
  path: string;
  createdAt: string;
}

export interface RunPatch {
  status?: string;
  stage?: string;
  summary?: unknown;
  error?: string | null;
  certificatePath?: string | null;
}

/**
 * The opened store. Every part of Sensei talks to it with `pg`, whether it is the embedded PGlite or a server.
 * With the embedded store a transaction on one pool connection holds back the others until it ends, so never wait
 * on a second connection while holding a transaction open on the first.
 */
export interface SenseiStore {
  /** The pool on the store (max 4 connections for the embedded store, pg's default 10 for a server). */
  readonly pool: pg.Pool;
  /** LangGraph checkpoints on the same pool; `setup()` has already run. */
  readonly checkpointer: PostgresSaver;
  /** For messages: `embedded PGlite at <dir>` or the store URL with its password masked. Never a secret. */
  readonly location: string;
  /**
   * `embedded-server`: this process serves the embedded store; `embedded-client`: another open store (maybe in
   * another process) serves it, and when that one closes this one loses its connections: open the store again.
   * `external`: the server at SENSEI_STORE_URL.
   */
  readonly mode: 'embedded-server' | 'embedded-client' | 'external';
  /** Create a run. Throws RunStateError when the id exists. Inline secrets in `config` are masked before storing. */
  createRun(run: { id: string; status: string; stage: string; config: unknown }): Promise<RunRecord>;
  /** Change the given fields (others stay) and `updatedAt`. Throws RunStateError for an unknown id. */
  updateRun(id: string, patch: RunPatch): Promise<RunRecord>;
  /** The run, or null when there is none with this id. */
  getRun(id: string): Promise<RunRecord | null>;
  /** Most recent runs first. Default limit 50. */
  listRuns(limit?: number): Promise<RunRecord[]>;
  /** Append to the approvals audit trail (rows are never changed). `at` defaults to now. */
  recordApproval(a: { runId: string; decision: string; by: string; reason?: string; detail?: unknown; at?: string }): Promise<ApprovalRecord>;
  /** The run's approvals, oldest first. */
  listApprovals(runId: string): Promise<ApprovalRecord[]>;
  /**
   * Queue failed rows, encrypted, in one statement. Idempotent: an entry the run already holds (same table, key, rule
   * and stage, compared by HMAC) is skipped. Returns the number of entries newly stored.
   */
  addErrors(runId: string, entries: ErrorEntry[]): Promise<number>;
  /**
   * The run's queued rows, decrypted, in the order they were added. Throws StoreError with a wrong key. Entries that a
   * retry wrote after all are left out unless `includeResolved`.
   */
  listErrors(runId: string, options?: { includeResolved?: boolean }): Promise<Array<ErrorEntry & { id: number; createdAt: string; resolvedAt: string | null }>>;
  /** Queued rows per table that are not resolved (tables without errors are absent). */
  countErrors(runId: string): Promise<Record<string, number>>;
  /** Forget the run's unresolved queued rows of one table (the table is reloaded whole). Returns how many. */
  clearErrors(runId: string, table: string): Promise<number>;
  /** Mark entries as written by a retry. Returns how many were still unresolved. */
  resolveErrors(runId: string, ids: number[]): Promise<number>;
  /** Store the run's certificate text and where it was delivered; a second call replaces it. */
  saveCertificate(runId: string, body: string, path: string): Promise<void>;
  getCertificate(runId: string): Promise<CertificateRecord | null>;
  /** End the pool; for the embedded server also stop serving, close PGlite and remove the lock. Idempotent. */
  close(): Promise<void>;
}

/**
 * Open the Sensei store: the server at `url` (which must offer pgvector), or else the embedded PGlite in
 * `<home>/store`. Applies the store migrations and the LangGraph checkpoint migrations before returning.
 */
export async function openStore(options: OpenStoreOptions): Promise<SenseiStore> {
  mkdirSync(options.home, { recursive: true, mode: 0o700 });
  const box = loadSecretBox(options.home);

  let embedded: EmbeddedStoreServer | undefined;
  let pool: pg.Pool;
  let location: string;
  if (options.url !== undefined && options.url !== '') {
    location = redactUrl(options.url);
    pool = new pg.Pool({ connectionString: options.url });
  } else {
    embedded = await connectEmbeddedStoreServer(options.home, {
      ...(options.lockWaitMs === undefined ? {} : { waitMs: options.lockWaitMs }),
      ...(options.template === undefined ? {} : { template: options.template }),
      ...(options.onNotice === undefined ? {} : { onNotice: options.onNotice }),
    });
    location = `embedded PGlite at ${embedded.dataDir}`;
    // One connection: PGlite runs one session, and its socket server queues statements in arrival order, so a
    // statement from a second connection queued behind an open transaction would wait for it forever while the
    // transaction's own next statement waits behind it. The pool's queue orders them without that deadlock.
    pool = new pg.Pool({ host: embedded.host, port: embedded.port, user: 'postgres', database: 'postgres', max: 1 });
  }
  // An idle connection that breaks (server restarted, embedded owner exited) is reported here; without a listener
  // the process would crash. The next query gets a fresh connection or a clear error.
  pool.on('error', () => undefined);

  try {
    await ensureVector(pool, location, embedded === undefined);
    await applyStoreMigrations(pool);
    const checkpointer = await setUpCheckpointer(pool);
    const mode = embedded === undefined ? 'external' : embedded.role === 'server' ? 'embedded-server' : 'embedded-client';
    return createStore(pool, checkpointer, location, mode, box, embedded);
  } catch (e) {
    await pool.end().catch(() => undefined);
    await embedded?.close().catch(() => undefined);
    if (e instanceof StoreError) throw e;
    throw new StoreError(`cannot open the store at ${location}: ${(e as Error).message}`, {
      hint: embedded
        ? 'check the Sensei home directory, or set SENSEI_STORE_URL to a PostgreSQL server with pgvector'
        : 'check that SENSEI_STORE_URL points at a reachable PostgreSQL server and that its user may create tables',
      cause: e,
    });
  }
}

/** The URL with its password (and any `password`/`sslpassword` parameter) masked; never throws. */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '<unparsable store URL>';
  }
  if (u.password) u.password = '***';
  for (const name of [...u.searchParams.keys()]) {
    if (/pass|secret|token|key/i.test(name)) u.searchParams.set(name, '***');
  }
  return u.toString();
}

async function ensureVector(pool: pg.Pool, location: string, isExternal: boolean): Promise<void> {
  if (isExternal) {
    let available: boolean;
    try {
      const r = await pool.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'");
      available = r.rowCount !== 0;
    } catch (e) {
      throw new StoreError(`cannot connect to the store at ${location}: ${(e as Error).message}`, {
        hint: 'check SENSEI_STORE_URL (host, port, database, user) and that the server is running',
        cause: e,
      });
    }
    if (!available) {
      throw new StoreError(`the store at ${location} has no pgvector extension`, {
        hint: 'install pgvector on that server (https://github.com/pgvector/pgvector), or unset SENSEI_STORE_URL to use the embedded store',
      });
    }
  }
  try {
    await inSetupTransaction(pool, (client) => client.query('CREATE EXTENSION IF NOT EXISTS vector'));
  } catch (e) {
    throw new StoreError(`cannot enable the pgvector extension in the store at ${location}: ${(e as Error).message}`, {
      hint: 'ask the database owner to run CREATE EXTENSION vector in that database, or unset SENSEI_STORE_URL to use the embedded store',
      cause: e,
    });
  }
}

/**
 * Run `fn` in one transaction that holds the store's setup lock. On a server the advisory lock orders concurrent
 * openers; on the embedded store advisory locks do not separate connections (they share one PGlite session), but
 * the open transaction itself holds every other connection back until it ends.
 */
async function inSetupTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [0x5e45e2]);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

/**
 * A PostgresSaver on `pool` whose tables exist. Its `setup()` has no lock of its own, so two openers starting
 * together both try to apply its migrations: run it inside the setup transaction, on that one connection, each
 * statement under a savepoint (setup expects a failing "table does not exist" query not to abort what follows).
 */
async function setUpCheckpointer(pool: pg.Pool): Promise<PostgresSaver> {
  await inSetupTransaction(pool, async (client) => {
    const query = async (text: string, params?: unknown[]) => {
      await client.query('SAVEPOINT sensei_checkpointer_setup');
      try {
        const r = await client.query(text, params);
        await client.query('RELEASE SAVEPOINT sensei_checkpointer_setup');
        return r;
      } catch (e) {
        await client.query('ROLLBACK TO SAVEPOINT sensei_checkpointer_setup');
        throw e;
      }
    };
    const onThisConnection = { connect: async () => ({ query, release: () => undefined }) };
    await new PostgresSaver(onThisConnection as unknown as pg.Pool).setup();
  });
  return new PostgresSaver(pool);
}

interface RunRow {
  id: string;
  status: string;
  stage: string;
  config: unknown;
  summary: unknown;
  error: string | null;
  certificate_path: string | null;
  created_at: Date;
  updated_at: Date;
}

interface ApprovalRow {
  id: string;
  run_id: string;
  decision: string;
  decided_by: string;
  reason: string | null;
  detail: unknown;
  decided_at: Date;
}

interface ErrorRow {
  id: string;
  table_name: string;
  column_name: string | null;
  rule: string;
  stage: string;
  payload: Buffer;
  created_at: Date;
  resolved_at: Date | null;
}

const RUN_COLUMNS = 'id, status, stage, config, summary, error, certificate_path, created_at, updated_at';
const APPROVAL_COLUMNS = 'id, run_id, decision, decided_by, reason, detail, decided_at';

function toRun(r: RunRow): RunRecord {
  return {
    id: r.id,
    status: r.status,
    stage: r.stage,
    config: r.config,
    summary: r.summary,
    error: r.error,
    certificatePath: r.certificate_path,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

function toApproval(r: ApprovalRow): ApprovalRecord {
  return {
    id: Number(r.id),
    runId: r.run_id,
    decision: r.decision,
    by: r.decided_by,
    reason: r.reason,
    detail: r.detail,
    at: r.decided_at.toISOString(),
  };
}

// JSON text for a jsonb parameter: pg would turn a top-level array into a PostgreSQL array, and bigints would throw.
function jsonParam(value: unknown): string | null {
  if (value === undefined) return null;
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

const SECRET_KEY = /pass(word|wd)?$|secret|token|credential|api_?key|access_?key|private_?key/i;
const REFERENCE = /^(env|file|vault):\/\//;

/** A copy of `value` in which URL passwords and inline values of secret-looking keys are masked. */
function maskSecrets(value: unknown, key = ''): unknown {
  if (typeof value === 'string') {
    if (SECRET_KEY.test(key) && !REFERENCE.test(value)) return '***';
    return /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*:[^/?#]*@/i.test(value) ? redactUrl(value) : value;
  }
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, key));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v, k)]));
  }
  return value;
}

/** A key as text independent of property order, so the same row always gets the same identity. */
function canonicalKey(key: unknown): string {
  if (key === null || typeof key !== 'object' || Array.isArray(key) || Buffer.isBuffer(key)) {
    return JSON.stringify(key, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'null';
  }
  const entries = Object.entries(key as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

function errorContext(runId: string, table: string): string {
  return `sensei_error_queue\u0000${runId}\u0000${table}`;
}

function pgCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

function unknownRun(runId: string, cause?: unknown): RunStateError {
  return new RunStateError(`there is no run "${runId}" in the store`, {
    hint: 'create the run first (createRun) or check the run id (`sensei runs` lists them)',
    cause,
  });
}

function createStore(
  pool: pg.Pool,
  checkpointer: PostgresSaver,
  location: string,
  mode: SenseiStore['mode'],
  box: SecretBox,
  embedded: EmbeddedStoreServer | undefined,
): SenseiStore {
  let closing: Promise<void> | undefined;

  async function getRun(id: string): Promise<RunRecord | null> {
    const r = await pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM sensei_runs WHERE id = $1`, [id]);
    return r.rows[0] ? toRun(r.rows[0]) : null;
  }

  return {
    pool,
    checkpointer,
    location,
    mode,

    async createRun(run) {
      try {
        const r = await pool.query<RunRow>(
          `INSERT INTO sensei_runs (id, status, stage, config) VALUES ($1, $2, $3, $4::jsonb) RETURNING ${RUN_COLUMNS}`,
          [run.id, run.status, run.stage, jsonParam(maskSecrets(run.config ?? {}))],
        );
        return toRun(r.rows[0] as RunRow);
      } catch (e) {
        if (pgCode(e) === '23505') {
          throw new RunStateError(`a run "${run.id}" already exists in the store`, { hint: 'use a new run id', cause: e });
        }
        throw e;
      }
    },

    async updateRun(id, patch) {
      const sets: string[] = [];
      const params: unknown[] = [id];
      const set = (column: string, value: unknown, cast = '') => {
        params.push(value);
        sets.push(`${column} = $${params.length}${cast}`);
      };
      if (patch.status !== undefined) set('status', patch.status);
      if (patch.stage !== undefined) set('stage', patch.stage);
      if (patch.summary !== undefined) set('summary', jsonParam(patch.summary), '::jsonb');
      if (patch.error !== undefined) set('error', patch.error);
      if (patch.certificatePath !== undefined) set('certificate_path', patch.certificatePath);
      sets.push('updated_at = now()');
      const r = await pool.query<RunRow>(`UPDATE sensei_runs SET ${sets.join(', ')} WHERE id = $1 RETURNING ${RUN_COLUMNS}`, params);
      if (!r.rows[0]) throw unknownRun(id);
      return toRun(r.rows[0]);
    },

    getRun,

    async listRuns(limit = 50) {
      const r = await pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM sensei_runs ORDER BY created_at DESC, id DESC LIMIT $1`, [limit]);
      return r.rows.map(toRun);
    },

    async recordApproval(a) {
      try {
        const r = await pool.query<ApprovalRow>(
          `INSERT INTO sensei_approvals (run_id, decision, decided_by, reason, detail, decided_at)
           VALUES ($1, $2, $3, $4, $5::jsonb, COALESCE($6::timestamptz, now())) RETURNING ${APPROVAL_COLUMNS}`,
          [a.runId, a.decision, a.by, a.reason ?? null, jsonParam(a.detail), a.at ?? null],
        );
        return toApproval(r.rows[0] as ApprovalRow);
      } catch (e) {
        if (pgCode(e) === '23503') throw unknownRun(a.runId, e);
        throw e;
      }
    },

    async listApprovals(runId) {
      const r = await pool.query<ApprovalRow>(`SELECT ${APPROVAL_COLUMNS} FROM sensei_approvals WHERE run_id = $1 ORDER BY id`, [runId]);
      return r.rows.map(toApproval);
    },

    async addErrors(runId, entries) {
      if (entries.length === 0) return 0;
      const payloads = entries.map((e) => box.seal({ key: e.key, row: e.row, reason: e.reason }, errorContext(runId, e.table)));
      // Identical identities within one call (rows without a usable key) stay distinct through their occurrence number.
      const seen = new Map<string, number>();
      const dedup = entries.map((e) => {
        const identity = JSON.stringify([runId, e.table, canonicalKey(e.key), e.rule, e.stage]);
        const occurrence = (seen.get(identity) ?? 0) + 1;
        seen.set(identity, occurrence);
        return box.mac(`${identity}#${occurrence}`);
      });
      try {
        const r = await pool.query(
          `INSERT INTO sensei_error_queue (run_id, table_name, column_name, rule, stage, payload, dedup)
           SELECT $1, u.t, u.c, u.r, u.s, u.p, u.d FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::bytea[]) AS u(t, c, r, s, p, d)
           ON CONFLICT (run_id, dedup) DO NOTHING`,
          [runId, entries.map((e) => e.table), entries.map((e) => e.column), entries.map((e) => e.rule), entries.map((e) => e.stage), payloads, dedup],
        );
        return r.rowCount ?? entries.length;
      } catch (e) {
        if (pgCode(e) === '23503') throw unknownRun(runId, e);
        throw e;
      }
    },

    async listErrors(runId, options = {}) {
      const r = await pool.query<ErrorRow>(
        `SELECT id, table_name, column_name, rule, stage, payload, created_at, resolved_at FROM sensei_error_queue
         WHERE run_id = $1${options.includeResolved ? '' : ' AND resolved_at IS NULL'} ORDER BY id`,
        [runId],
      );
      return r.rows.map((row) => {
        const sealed = box.open(row.payload, errorContext(runId, row.table_name)) as { key?: unknown; row?: unknown; reason?: unknown } | null;
        return {
          id: Number(row.id),
          table: row.table_name,
          column: row.column_name,
          rule: row.rule,
          stage: row.stage,
          key: sealed?.key ?? null,
          row: sealed?.row ?? null,
          reason: typeof sealed?.reason === 'string' ? sealed.reason : '',
          createdAt: row.created_at.toISOString(),
          resolvedAt: row.resolved_at ? row.resolved_at.toISOString() : null,
        };
      });
    },

    async countErrors(runId) {
      const r = await pool.query<{ table_name: string; n: number }>(
        'SELECT table_name, count(*)::int AS n FROM sensei_error_queue WHERE run_id = $1 AND resolved_at IS NULL GROUP BY table_name ORDER BY table_name',
        [runId],
      );
      return Object.fromEntries(r.rows.map((row) => [row.table_name, row.n]));
    },

    async clearErrors(runId, table) {
      const r = await pool.query('DELETE FROM sensei_error_queue WHERE run_id = $1 AND table_name = $2 AND resolved_at IS NULL', [runId, table]);
      return r.rowCount ?? 0;
    },

    async resolveErrors(runId, ids) {
      if (ids.length === 0) return 0;
      const r = await pool.query('UPDATE sensei_error_queue SET resolved_at = now() WHERE run_id = $1 AND id = ANY($2::bigint[]) AND resolved_at IS NULL', [runId, ids]);
      return r.rowCount ?? 0;
    },

    async saveCertificate(runId, body, path) {
      try {
        await pool.query(
          `INSERT INTO sensei_certificates (run_id, body, path) VALUES ($1, $2, $3)
           ON CONFLICT (run_id) DO UPDATE SET body = EXCLUDED.body, path = EXCLUDED.path, created_at = now()`,
          [runId, body, path],
        );
      } catch (e) {
        if (pgCode(e) === '23503') throw unknownRun(runId, e);
        throw e;
      }
    },

    async getCertificate(runId) {
      const r = await pool.query<{ run_id: string; body: string; path: string; created_at: Date }>(
        'SELECT run_id, body, path, created_at FROM sensei_certificates WHERE run_id = $1',
        [runId],
      );
      const row = r.rows[0];
      return row ? { runId: row.run_id, body: row.body, path: row.path, createdAt: row.created_at.toISOString() } : null;
    },

    close() {
      closing ??= (async () => {
        try {
          await pool.end();
        } finally {
          await embedded?.close();
        }
      })();
      return closing;
    },
  };
}
