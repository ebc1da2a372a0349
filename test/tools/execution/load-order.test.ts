// The load's table order: foreign keys are lifted for the load, so the DAG's phases do not order it; every table shares
// one pool of slots, largest first. A child table larger than its parent is loaded before it, and the foreign key is
// still checked when it is put back (an orphan goes to the error queue).
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createMapper } from '../../../agents/mapper.js';
import type { Catalog } from '../../../core/catalog.js';
import type { Plan } from '../../../core/plan.js';
import type { ErrorQueueEntry } from '../../../core/run.js';
import { openSource } from '../../../connectors/open-source.js';
import { openTarget } from '../../../connectors/open-target.js';
import { executePlan, loadOrder } from '../../../tools/execution/execute-plan.js';
import { NotStarted, slots, turns } from '../../../tools/execution/slots.js';
import { isPlanError } from '../../../core/errors.js';
import { createPgDatabase, pgQuery, tempDir, type TempDatabase } from '../../fixtures/databases.js';

describe('load order', () => {
  const dir = tempDir('sensei-order-');
  const targets: TempDatabase[] = [];

  afterAll(async () => {
    for (const t of targets) await t.drop();
    dir.remove();
  });

  /** A SQLite source `name` filled by `fill`, a fresh PostgreSQL target, and the source's catalog and plan. */
  async function sqliteRun(name: string, fill: (db: Database.Database) => void) {
    const db = new Database(join(dir.path, name));
    try {
      fill(db);
    } finally {
      db.close();
    }
    const tgt = await createPgDatabase('sensei_order');
    targets.push(tgt);
    const source = await openSource(`sqlite://${join(dir.path, name)}`);
    const target = await openTarget(tgt.url);
    const catalog = await source.catalog({ withCounts: true });
    const { plan } = await createMapper().plan({ source: catalog, target, thresholds: { autoApproveAbove: 0.95, reviewAbove: 0.8 } });
    return { url: tgt.url, source, target, catalog, plan, close: () => Promise.allSettled([source.close(), target.close()]) };
  }

  it('puts the largest tables first, a table of unknown size before all, and keeps phase order between equals', () => {
    const table = (name: string, rowCount: number | null) => ({ name, columns: [], primaryKey: [], foreignKeys: [], uniques: [], rowCount });
    const mapping = (name: string) => ({ source: name, target: `t_${name}`, columns: [] });
    const catalog = { dialect: 'sqlite', tables: [table('a', 10), table('b', 500), table('c', null), table('d', 10), table('e', 500)] } as unknown as Catalog;
    const plan = { tables: ['a', 'b', 'c', 'd', 'e', 'gone'].map(mapping), phases: [['t_a', 't_d'], ['t_e', 't_b', 't_gone'], ['t_c']] } as unknown as Plan;
    expect(loadOrder(plan, catalog).map((x) => [x.mapping.source, x.sourceTable?.name ?? null])).toEqual([
      // 'gone' is in the plan but not in the catalog: unknown size, first, and refused by the load with a clear error.
      ['gone', null],
      ['c', 'c'],
      ['e', 'e'],
      ['b', 'b'],
      ['a', 'a'],
      ['d', 'd'],
    ]);
  });

  it('queues the units of each table in turn order, whatever order the preparations end in', async () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const slot = slots(1);
    const turn = turns(3);
    const started: string[] = [];
    // Table 0's preparation ends last, table 2's first.
    const prepared = [40, 15, 0];
    await Promise.all(
      [0, 1, 2].map(async (i) => {
        await sleep(prepared[i]!);
        await turn[i]!.ready;
        const units = ['a', 'b'].map((part) => slot(async () => void started.push(`${i}${part}`)));
        turn[i]!.pass();
        await Promise.all(units);
      }),
    );
    expect(started).toEqual(['0a', '0b', '1a', '1b', '2a', '2b']);
  });

  it('refuses a plan whose table the catalog no longer has before loading anything, naming the table', async () => {
    const { url, source, target, catalog, plan, close } = await sqliteRun('gone.db', (db) =>
      db.exec("CREATE TABLE kept (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE dropped (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO kept VALUES (1, 'x'); INSERT INTO dropped VALUES (1, 'y');"),
    );
    const loaded: string[] = [];
    try {
      const without = { ...catalog, tables: catalog.tables.filter((t) => t.name !== 'dropped') };
      const error = await executePlan(
        { runId: 'run_gone', source, target, errors: { add: async () => undefined, count: async () => ({}) }, concurrency: 2, onProgress: (p) => void loaded.push(p.table) },
        plan,
        without,
      ).catch((e: unknown) => e);
      expect(isPlanError(error)).toBe(true);
      expect((error as Error).message).toContain('source table dropped is in the plan but no longer in the source catalog; nothing was loaded');
      // Refused before the target was touched: no checkpoint table, no loaded row.
      expect(await pgQuery<{ t: string | null }>(url, "SELECT to_regclass('_sensei.checkpoints')::text AS t")).toEqual([{ t: null }]);
      expect(error).not.toBeInstanceOf(NotStarted);
      expect(loaded).toEqual([]);
    } finally {
      await close();
    }
  });

  it("commits the load's segments without waiting for the WAL flush, and ends with a synchronous commit that flushes them", async () => {
    const { source, target, catalog, plan, close } = await sqliteRun('async.db', (db) => {
      db.exec('CREATE TABLE item (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
      for (let i = 1; i <= 45; i++) db.prepare('INSERT INTO item VALUES (?, ?)').run(i, `v${i}`);
    });
    // Each transaction's setting, read inside it just before it commits.
    const commits: string[] = [];
    const transaction = target.transaction.bind(target);
    target.transaction = (fn) =>
      transaction(async (s) => {
        const result = await fn(s);
        commits.push(String((await s.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]!.synchronous_commit));
        return result;
      });
    try {
      const outcomes = await executePlan(
        { runId: 'run_async', source, target, errors: { add: async () => undefined, count: async () => ({}) }, batchSize: 10, checkpointEvery: 10, concurrency: 1 },
        plan,
        catalog,
      );
      expect(outcomes[0]).toMatchObject({ rows_read: 45, rows_written: 45 });
      // Five segments of 10 rows (the last one 5) and the empty one that finds the end: asynchronous commits.
      expect(commits.filter((c) => c === 'off')).toHaveLength(6);
      // After the last of them, the constraints' transaction commits synchronously, which flushes all earlier WAL.
      expect(commits.at(-1)).toBe('on');
      expect(commits.lastIndexOf('off')).toBeLessThan(commits.length - 1);
    } finally {
      await close();
    }
  });

  it.each([
    { orphan: false, kill: false, what: 'validates every foreign key side by side when no row is an orphan' },
    { orphan: true, kill: false, what: 'falls back to removing the orphan, queued, when a parallel validation finds one' },
    { orphan: false, kill: true, what: 'validates them all again when a validation loses its connection' },
  ])('$what', async ({ orphan, kill }) => {
    const { url, source, target, catalog, plan: planned, close } = await sqliteRun(`fks-${orphan}-${kill}.db`, (db) => {
      db.exec(`CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
               CREATE TABLE region (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
               CREATE TABLE purchase (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customer (id), region_id INTEGER REFERENCES region (id));
               CREATE TABLE visit (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customer (id));`);
      for (let i = 1; i <= 6; i++) db.prepare('INSERT INTO customer VALUES (?, ?)').run(i, `c${i}`);
      for (let i = 1; i <= 3; i++) db.prepare('INSERT INTO region VALUES (?, ?)').run(i, `r${i}`);
      db.pragma('foreign_keys = OFF');
      for (let i = 1; i <= 50; i++) db.prepare('INSERT INTO purchase VALUES (?, ?, ?)').run(i, (i % 6) + 1, orphan && i === 33 ? 7 : (i % 3) + 1);
      for (let i = 1; i <= 30; i++) db.prepare('INSERT INTO visit VALUES (?, ?)').run(i, (i % 6) + 1);
    });
    const queued: ErrorQueueEntry[] = [];
    const validated: string[] = [];
    const indexed: string[] = [];
    const retried: string[] = [];
    const query = target.query.bind(target);
    target.query = (async (sql: string, params?: unknown[]) => {
      if (sql.includes('VALIDATE CONSTRAINT')) {
        validated.push(sql);
        // The first validation's connection is lost (the server ends it, as pg_terminate_backend from outside would).
        if (kill && validated.length === 1) await query('SELECT pg_terminate_backend(pg_backend_pid())');
      }
      if (sql.startsWith('CREATE INDEX')) indexed.push(sql);
      return query(sql, params);
    }) as typeof target.query;
    try {
      // An index built after the load, as a generated schema's are: alongside the validations.
      const plan = { ...planned, postLoadDdl: ['CREATE INDEX IF NOT EXISTS "ix_visit_customer" ON "public"."visit" ("customer_id")'] };
      const outcomes = await executePlan(
        {
          runId: 'run_fks',
          source,
          target,
          errors: { add: async (_run, entries) => void queued.push(...entries), count: async () => ({ purchase: queued.length }) },
          batchSize: 10,
          checkpointEvery: 10,
          concurrency: 2,
          retryBackoffMs: 10,
          onRetry: (n) => retried.push(n.table),
        },
        plan,
        catalog,
      );
      const fks = await pgQuery<{ c: string }>(url, "SELECT conrelid::regclass::text || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated::text AS c FROM pg_constraint WHERE contype = 'f' ORDER BY 1");
      expect(fks.map((r) => r.c)).toEqual([
        'purchase FOREIGN KEY (customer_id) REFERENCES customer(id) true',
        'purchase FOREIGN KEY (region_id) REFERENCES region(id) true',
        'visit FOREIGN KEY (customer_id) REFERENCES customer(id) true',
      ]);
      expect(await pgQuery(url, "SELECT constraints_restored FROM _sensei.run_state WHERE run_id = 'run_fks'")).toEqual([{ constraints_restored: true }]);
      expect(outcomes.find((o) => o.source === 'purchase')).toMatchObject({ rows_read: 50, rows_written: orphan ? 49 : 50, rows_errored: orphan ? 1 : 0 });
      expect(queued.map((e) => `${e.table} ${e.key.id} ${e.rule} ${e.column}`)).toEqual(orphan ? ['purchase 33 fk_orphan region_id'] : []);
      // Each foreign key was validated on its own (the orphan's refusal then sent them through the single transaction),
      // and the index was built once, with them.
      if (kill) {
        // Retried once; the validations that had started before the failure ran again with the rest.
        expect(retried).toEqual(['(constraints)']);
        expect(validated.length).toBeGreaterThanOrEqual(4);
        expect(new Set(validated).size).toBe(3);
        expect(indexed.length).toBeGreaterThanOrEqual(1);
      } else {
        expect(retried).toEqual([]);
        expect(validated).toHaveLength(3);
        expect(indexed).toHaveLength(1);
      }
      expect(await pgQuery(url, "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_visit_customer'")).toEqual([{ indexdef: 'CREATE INDEX ix_visit_customer ON public.visit USING btree (customer_id)' }]);
    } finally {
      await close();
    }
  });

  it('loads a child table larger than its parent first, and still queues its orphan when the foreign key is put back', async () => {
    const { url, source, target, catalog, plan, close } = await sqliteRun('shop.db', (db) => {
      db.exec(`CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
               CREATE TABLE region (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
               CREATE TABLE purchase (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customer (id), amount INTEGER NOT NULL);`);
      for (let i = 1; i <= 5; i++) db.prepare('INSERT INTO customer VALUES (?, ?)').run(i, `c${i}`);
      for (let i = 1; i <= 12; i++) db.prepare('INSERT INTO region VALUES (?, ?)').run(i, `r${i}`);
      db.pragma('foreign_keys = OFF');
      // Purchase 40 names customer 99, who does not exist.
      for (let i = 1; i <= 40; i++) db.prepare('INSERT INTO purchase VALUES (?, ?, ?)').run(i, i === 40 ? 99 : (i % 5) + 1, i * 10);
    });
    const firstSeen: string[] = [];
    const queued: ErrorQueueEntry[] = [];
    try {
      // The DAG puts customer before purchase.
      const phaseOf = (t: string) => plan.phases.findIndex((p) => p.includes(t));
      expect(phaseOf('customer')).toBeLessThan(phaseOf('purchase'));
      const outcomes = await executePlan(
        {
          runId: 'run_order',
          source,
          target,
          errors: { add: async (_run, entries) => void queued.push(...entries), count: async () => ({ purchase: queued.length }) },
          batchSize: 10,
          checkpointEvery: 10,
          concurrency: 1,
          onProgress: (p) => void (firstSeen.includes(p.table) || firstSeen.push(p.table)),
        },
        plan,
        catalog,
      );
      expect(firstSeen).toEqual(['purchase', 'region', 'customer']);
      expect(outcomes.find((o) => o.source === 'purchase')).toMatchObject({ rows_read: 40, rows_written: 39, rows_errored: 1 });
      expect(queued.map((e) => [e.table, e.key])).toEqual([['purchase', { id: '40' }]]);
      const fks = await pgQuery<{ n: string }>(url, "SELECT count(*) AS n FROM pg_constraint WHERE contype = 'f' AND conrelid = 'purchase'::regclass AND convalidated");
      expect(fks[0]!.n).toBe('1');
    } finally {
      await close();
    }
  });
});
