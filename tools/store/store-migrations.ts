// The Sensei store's own tables, as an ordered list of migrations applied once each.
import type pg from 'pg';
import { StoreError } from '../../core/errors.js';

/** One schema step. `version`s are consecutive from 1 and never reused; a shipped migration is never edited. */
export interface StoreMigration {
  version: number;
  name: string;
  sql: string;
}

export const STORE_MIGRATIONS: readonly StoreMigration[] = [
  {
    version: 1,
    name: 'runs, approvals, error queue, certificates',
    sql: `
      CREATE TABLE sensei_runs (
        id text PRIMARY KEY,
        status text NOT NULL,
        stage text NOT NULL,
        config jsonb NOT NULL,
        summary jsonb,
        error text,
        certificate_path text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX sensei_runs_created_at ON sensei_runs (created_at DESC);

      CREATE TABLE sensei_approvals (
        id bigserial PRIMARY KEY,
        run_id text NOT NULL REFERENCES sensei_runs (id),
        decision text NOT NULL,
        decided_by text NOT NULL,
        reason text,
        detail jsonb,
        decided_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX sensei_approvals_run ON sensei_approvals (run_id, id);
      -- The approvals table is an audit trail: rows are added, never changed or removed.
      CREATE FUNCTION sensei_approvals_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'sensei_approvals is append-only';
      END $$;
      CREATE TRIGGER sensei_approvals_append_only BEFORE UPDATE OR DELETE ON sensei_approvals
        FOR EACH ROW EXECUTE FUNCTION sensei_approvals_append_only();

      CREATE TABLE sensei_error_queue (
        id bigserial PRIMARY KEY,
        run_id text NOT NULL REFERENCES sensei_runs (id),
        table_name text NOT NULL,
        column_name text,
        rule text NOT NULL,
        stage text NOT NULL,
        payload bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX sensei_error_queue_run ON sensei_error_queue (run_id, table_name);

      CREATE TABLE sensei_certificates (
        run_id text PRIMARY KEY REFERENCES sensei_runs (id),
        body text NOT NULL,
        path text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 2,
    name: 'pattern library with fingerprint similarity search',
    sql: `
      CREATE TABLE sensei_patterns (
        id bigserial PRIMARY KEY,
        source_signature text NOT NULL,
        target_signature text NOT NULL,
        fingerprint vector(128) NOT NULL,
        transformation text NOT NULL,
        provenance jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX sensei_patterns_fingerprint ON sensei_patterns USING hnsw (fingerprint vector_cosine_ops);
    `,
  },
  {
    version: 3,
    name: 'pattern library: source and target columns, name vectors, semantic type, provenance',
    sql: `
      ALTER TABLE sensei_patterns
        ADD COLUMN source_table text NOT NULL DEFAULT '',
        ADD COLUMN source_column text NOT NULL DEFAULT '',
        ADD COLUMN semantic_type text,
        ADD COLUMN target_table text NOT NULL DEFAULT '',
        ADD COLUMN target_column text NOT NULL DEFAULT '',
        ADD COLUMN name_vector vector(64),
        ADD COLUMN run_id text,
        ADD COLUMN approved_by text,
        ADD COLUMN times_recorded int NOT NULL DEFAULT 1,
        ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
      -- One row per learned mapping; recording it again refreshes it. Rows from before this version have no columns.
      CREATE UNIQUE INDEX sensei_patterns_mapping ON sensei_patterns (source_table, source_column, target_table, target_column, transformation)
        WHERE source_table <> '';
      CREATE INDEX sensei_patterns_name ON sensei_patterns USING hnsw (name_vector vector_cosine_ops);
    `,
  },
  {
    version: 4,
    name: 'stakeholder tokens',
    sql: `
      CREATE TABLE sensei_tokens (
        id text PRIMARY KEY,
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('viewer', 'approver', 'admin')),
        tables text[],
        token_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      );
    `,
  },
  {
    version: 5,
    name: 'idempotent error queue with retry status',
    sql: `
      -- HMAC of (table, key, rule, stage, occurrence): the same rejected row queued again (a resumed segment) is ignored.
      ALTER TABLE sensei_error_queue ADD COLUMN dedup bytea;
      CREATE UNIQUE INDEX sensei_error_queue_dedup ON sensei_error_queue (run_id, dedup);
      -- Set when "sensei errors retry" wrote the row after all; such entries no longer count as queued.
      ALTER TABLE sensei_error_queue ADD COLUMN resolved_at timestamptz;
    `,
  },
  {
    version: 6,
    name: 'source captures and validation results',
    sql: `
      -- What verification compares the target with. summary and detail hold statistics and key values: sealed.
      CREATE TABLE sensei_captures (
        run_id text NOT NULL,
        table_name text NOT NULL,
        captured_at timestamptz NOT NULL,
        summary bytea NOT NULL,
        PRIMARY KEY (run_id, table_name)
      );
      CREATE TABLE sensei_capture_detail (
        run_id text NOT NULL,
        table_name text NOT NULL,
        bucket int NOT NULL,
        detail bytea NOT NULL,
        PRIMARY KEY (run_id, table_name, bucket)
      );
      -- Replayed query results at capture time: row count and sha256 of the normalised rows, never a value.
      CREATE TABLE sensei_capture_queries (
        run_id text NOT NULL,
        name text NOT NULL,
        rows int NOT NULL,
        sha256 text NOT NULL,
        error text,
        captured_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (run_id, name)
      );
      CREATE TABLE sensei_validation_results (
        id bigserial PRIMARY KEY,
        run_id text NOT NULL,
        passed boolean NOT NULL,
        report bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX sensei_validation_results_run ON sensei_validation_results (run_id, id);
      CREATE INDEX sensei_validation_results_created ON sensei_validation_results (created_at);
    `,
  },
  {
    version: 7,
    name: 'verification waivers',
    sql: `
      -- A stakeholder's approved exception for one finding of a run (code and path as verification reports them).
      CREATE TABLE sensei_waivers (
        id bigserial PRIMARY KEY,
        run_id text NOT NULL,
        code text NOT NULL,
        path text[] NOT NULL,
        reason text NOT NULL,
        approved_by text NOT NULL,
        approved_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (run_id, code, path)
      );
    `,
  },
];

// Any constant works; it only has to be the same in every process that opens the store.
const MIGRATION_LOCK_KEY = 0x5e45e1;

/**
 * Apply the migrations `pool` has not seen yet, each in its own transaction, recorded in `sensei_migrations`.
 * Safe to call on every open and from several processes at once (an advisory lock orders them).
 * Returns the versions applied by this call (empty when the store was up to date).
 */
export async function applyStoreMigrations(
  pool: pg.Pool,
  migrations: readonly StoreMigration[] = STORE_MIGRATIONS,
): Promise<number[]> {
  const applied: number[] = [];
  for (const m of migrations) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await client.query(
        `CREATE TABLE IF NOT EXISTS sensei_migrations (
           version int PRIMARY KEY,
           name text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
      const seen = await client.query('SELECT 1 FROM sensei_migrations WHERE version = $1', [m.version]);
      if (seen.rowCount === 0) {
        await client.query(m.sql);
        await client.query('INSERT INTO sensei_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        applied.push(m.version);
      }
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new StoreError(`store migration ${m.version} (${m.name}) failed: ${(e as Error).message}`, {
        hint: 'the store was left at the previous version; fix the cause (permissions, disk) and open it again',
        cause: e,
      });
    } finally {
      client.release();
    }
  }
  return applied;
}
