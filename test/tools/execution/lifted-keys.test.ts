// Keys lifted for the load: primary keys and unique constraints are dropped while the rows go in and put back after,
// later duplicates queued as `unique`; a failed run puts back what its rows allow; its resume lifts them again.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMapper } from '../../../agents/mapper.js';
import type { Catalog } from '../../../core/catalog.js';
import type { Plan } from '../../../core/plan.js';
import type { ErrorQueueEntry } from '../../../core/run.js';
import type { SourceConnector, TargetConnector } from '../../../connectors/connector.js';
import { openSource } from '../../../connectors/open-source.js';
import { openTarget } from '../../../connectors/open-target.js';
import { executePlan, type ExecutePlanDeps } from '../../../tools/execution/execute-plan.js';
import { createPgDatabase, pgExec, pgQuery, tempDir, type TempDatabase } from '../../fixtures/databases.js';

const TARGET_DDL = `
  CREATE TABLE team (id integer CONSTRAINT team_pk PRIMARY KEY, name text NOT NULL);
  CREATE TABLE person (id integer CONSTRAINT person_pk PRIMARY KEY, email text CONSTRAINT person_email_uq UNIQUE, team_id integer CONSTRAINT person_team_fk REFERENCES team (id));`;

/** The keys and foreign keys of the two tables, as the catalog holds them. */
async function constraints(url: string): Promise<string[]> {
  const rows = await pgQuery<{ c: string }>(
    url,
    `SELECT conrelid::regclass::text || ' ' || conname || ' ' || contype::text || ' ' || convalidated::text || ' ' || pg_get_constraintdef(oid) AS c
       FROM pg_constraint WHERE conrelid IN ('team'::regclass, 'person'::regclass) AND contype IN ('p', 'u', 'f') ORDER BY 1`,
  );
  return rows.map((r) => r.c);
}

const KEPT = [
  'person person_email_uq u true UNIQUE (email)',
  'person person_pk p true PRIMARY KEY (id)',
  'person person_team_fk f true FOREIGN KEY (team_id) REFERENCES team(id)',
  'team team_pk p true PRIMARY KEY (id)',
];

describe('keys lifted for the load', () => {
  const dir = tempDir('sensei-keys-');
  const sqlite = join(dir.path, 'source.db');
  const targets: TempDatabase[] = [];

  beforeAll(() => {
    const db = new Database(sqlite);
    db.exec(`
      CREATE TABLE team (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
      CREATE TABLE person (id INTEGER PRIMARY KEY, email TEXT, team_id INTEGER);
      INSERT INTO team VALUES (1, 'red'), (2, 'blue');`);
    const insert = db.prepare('INSERT INTO person VALUES (?, ?, ?)');
    for (let i = 1; i <= 30; i++) insert.run(i, `p${i}@x.org`, (i % 2) + 1);
    // Three rows share an email: the first loaded (id 4) stays, ids 12 and 25 are queued; id 20's team is missing.
    db.prepare(`UPDATE person SET email = 'p4@x.org' WHERE id IN (12, 25)`).run();
    db.prepare('UPDATE person SET team_id = 9 WHERE id = 20').run();
    db.close();
  });
  afterAll(async () => {
    for (const t of targets) await t.drop();
    dir.remove();
  });

  async function setUp(): Promise<{ url: string; plan: Plan; catalog: Catalog }> {
    const tgt = await createPgDatabase('sensei_keys');
    targets.push(tgt);
    await pgExec(tgt.url, TARGET_DDL);
    const source = await openSource(`sqlite://${sqlite}`);
    const target = await openTarget(tgt.url);
    try {
      const catalog = await source.catalog({ withCounts: true });
      const { plan } = await createMapper().plan({ source: catalog, target, thresholds: { autoApproveAbove: 0.95, reviewAbove: 0.8 } });
      return { url: tgt.url, plan, catalog };
    } finally {
      await Promise.allSettled([source.close(), target.close()]);
    }
  }

  async function run(
    url: string,
    plan: Plan,
    catalog: Catalog,
    errors: ErrorQueueEntry[],
    policy: 'continue' | 'stop_on_first' = 'continue',
    hook?: (source: SourceConnector) => void,
    targetHook?: (target: TargetConnector) => void,
    extra: Partial<ExecutePlanDeps> = {},
  ) {
    const source = await openSource(`sqlite://${sqlite}`);
    hook?.(source);
    const target = await openTarget(url);
    targetHook?.(target);
    try {
      return await executePlan(
        {
          runId: 'run_keys',
          source,
          target,
          errors: { add: async (_run, entries) => void errors.push(...entries) },
          batchSize: 5,
          checkpointEvery: 5,
          // One unit at a time: which of the rows sharing a key loads first (and stays) does not depend on timing.
          concurrency: 1,
          errorPolicy: policy,
          ...extra,
        },
        plan,
        catalog,
      );
    } finally {
      await Promise.allSettled([source.close(), target.close()]);
    }
  }

  it('loads without the keys and puts them back as they were, queuing the later duplicates and the orphan', async () => {
    const { url, plan, catalog } = await setUp();
    const errors: ErrorQueueEntry[] = [];
    const outcomes = await run(url, plan, catalog, errors);
    expect(await constraints(url)).toEqual(KEPT);
    // In the order the constraints were put back (the rows one statement removed in no particular order).
    expect(errors.map((e) => e.rule)).toEqual(['unique', 'unique', 'fk_orphan']);
    const ordered = [...errors.slice(0, 2).sort((a, b) => Number(a.key.id) - Number(b.key.id)), errors[2]!];
    expect(ordered.map((e) => [e.table, e.key, e.rule, e.stage, e.column])).toEqual([
      ['person', { id: '12' }, 'unique', 'constraints', 'email'],
      ['person', { id: '25' }, 'unique', 'constraints', 'email'],
      ['person', { id: '20' }, 'fk_orphan', 'constraints', 'team_id'],
    ]);
    expect(errors[0]!.reason).toContain('constraint person_email_uq');
    const kept = await pgQuery<{ id: number }>(url, `SELECT id FROM person WHERE email = 'p4@x.org'`);
    expect(kept).toEqual([{ id: 4 }]);
    const person = outcomes.find((o) => o.target === 'person')!;
    expect([person.rows_read, person.rows_written, person.rows_errored]).toEqual([30, 27, 3]);
    expect(Number((await pgQuery<{ n: string }>(url, 'SELECT count(*) AS n FROM person'))[0]!.n)).toBe(27);
  });

  it('puts the keys back when the load stops, and the resume lifts them again and ends as an uninterrupted run', async () => {
    const { url, plan, catalog } = await setUp();
    // A row the plan's rules refuse, in person's third segment (ids 11–15, which holds 12, a second p4@x.org): the
    // policy stops the run after it.
    const errors: ErrorQueueEntry[] = [];
    const bad = plan.tables.find((t) => t.target === 'person')!;
    const stopping: Plan = {
      ...plan,
      tables: plan.tables.map((t) =>
        t === bad
          ? { ...t, columns: t.columns.map((c) => (c.targetColumn === 'id' ? { ...c, validationRules: [...c.validationRules, { rule: 'not_14', predicate: `src."id" <> '14'`, message: 'id 14 is refused by the test' }] } : c)) }
          : t,
      ),
    };
    await expect(run(url, stopping, catalog, errors, 'stop_on_first')).rejects.toThrow(/error policy/);
    // Stopped mid-load: the keys the loaded rows allow are back (the email key is not: ids 4 and 12 share one), the
    // foreign key is back NOT VALID.
    expect(await constraints(url)).toEqual([
      'person person_pk p true PRIMARY KEY (id)',
      'person person_team_fk f false FOREIGN KEY (team_id) REFERENCES team(id) NOT VALID',
      'team team_pk p true PRIMARY KEY (id)',
    ]);
    const loaded = await pgQuery<{ id: number }>(url, 'SELECT id FROM person ORDER BY id');
    expect(loaded.map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15]);
    // The resume (the same plan, the policy relaxed) lifts them again and ends with every key valid.
    const outcomes = await run(url, stopping, catalog, errors);
    expect(await constraints(url)).toEqual(KEPT);
    const person = outcomes.find((o) => o.target === 'person')!;
    expect([person.rows_read, person.rows_written, person.rows_errored]).toEqual([30, 26, 4]);
    expect(errors.map((e) => `${e.key.id} ${e.rule}`).sort()).toEqual(['12 unique', '14 not_14', '20 fk_orphan', '25 unique']);
  });

  /** A target hook: the first `times` statements putting `constraint` back lose their connection (the server ends it). */
  function killOn(constraint: string, times: number) {
    let killed = 0;
    const hook = (target: TargetConnector): void => {
      const transaction = target.transaction.bind(target);
      target.transaction = (fn) =>
        transaction((s) =>
          fn({
            ...s,
            query: async (sql, params) => {
              if (killed < times && sql.startsWith('ALTER TABLE') && sql.includes(`ADD CONSTRAINT "${constraint}"`)) {
                killed++;
                await s.query('SELECT pg_terminate_backend(pg_backend_pid())');
              }
              return s.query(sql, params);
            },
          }),
        );
    };
    return { hook, killed: () => killed };
  }

  it("puts a table's keys back as soon as its load ends, while another table is still loading", async () => {
    const { url, plan, catalog } = await setUp();
    const errors: ErrorQueueEntry[] = [];
    // person (30 rows) loads first, team (2 rows) after it: team's reading waits until person's keys are back, which
    // happens only if they go back before the whole load ends (up to 10 s, then it reads on and the test fails).
    let seenWhileTeamWaited: string[] = [];
    const outcomes = await run(url, plan, catalog, errors, 'continue', (source) => {
      const read = source.readBatches.bind(source);
      source.readBatches = (table, options) => {
        if (table.name !== 'team') return read(table, options);
        return (async function* () {
          for (let waited = 0; waited < 10_000; waited += 50) {
            seenWhileTeamWaited = await constraints(url);
            if (seenWhileTeamWaited.some((c) => c.startsWith('person person_email_uq'))) break;
            await new Promise((r) => setTimeout(r, 50));
          }
          yield* read(table, options);
        })();
      };
    });
    expect(seenWhileTeamWaited).toEqual(['person person_email_uq u true UNIQUE (email)', 'person person_pk p true PRIMARY KEY (id)']);
    expect(await constraints(url)).toEqual(KEPT);
    expect(errors.map((e) => `${e.key.id} ${e.rule}`)).toEqual(expect.arrayContaining(['12 unique', '25 unique', '20 fk_orphan']));
    const person = outcomes.find((o) => o.target === 'person')!;
    expect([person.rows_read, person.rows_written, person.rows_errored]).toEqual([30, 27, 3]);
  });

  it.each([
    { constraint: 'person_pk', what: "a table's key restore" },
    { constraint: 'person_team_fk', what: "the foreign keys' restore at the end of the load" },
  ])('retries $what when its connection is lost, and ends as an uninterrupted run', async ({ constraint }) => {
    const { url, plan, catalog } = await setUp();
    const errors: ErrorQueueEntry[] = [];
    // The first time the constraint is put back, its connection is lost (as pg_terminate_backend from outside would do).
    const kill = killOn(constraint, 1);
    const outcomes = await run(url, plan, catalog, errors, 'continue', undefined, kill.hook);
    expect(kill.killed()).toBe(1);
    expect(await constraints(url)).toEqual(KEPT);
    expect(errors.map((e) => `${e.key.id} ${e.rule}`).sort()).toEqual(['12 unique', '20 fk_orphan', '25 unique']);
    const person = outcomes.find((o) => o.target === 'person')!;
    expect([person.rows_read, person.rows_written, person.rows_errored]).toEqual([30, 27, 3]);
  });

  it("stops resumably, naming the step, when the foreign keys' restore keeps losing its connection", async () => {
    const { url, plan, catalog } = await setUp();
    const errors: ErrorQueueEntry[] = [];
    // Every attempt to put the foreign key back loses its connection.
    const kill = killOn('person_team_fk', Infinity);
    const failure = await run(
      url,
      plan,
      catalog,
      errors,
      'continue',
      undefined,
      kill.hook,
      { maxRetries: 1, retryBackoffMs: 10 },
    ).then(
      () => null,
      (e: unknown) => e as { code?: string; message: string; hint?: string },
    );
    // The first attempt, one retry, and the failed run's putting them back NOT VALID (whose loss is ignored: the resume
    // lifts them anyway); the run stops, saying what it was doing and how to go on.
    expect(kill.killed()).toBe(3);
    expect(failure?.message).toMatch(/lost the target connection while putting the keys and foreign keys back after the load and retries did not help/);
    expect(failure?.hint).toContain('sensei resume run_keys');
    // The resume (nothing left to load) puts them back and ends as an uninterrupted run.
    const outcomes = await run(url, plan, catalog, errors);
    expect(await constraints(url)).toEqual(KEPT);
    const person = outcomes.find((o) => o.target === 'person')!;
    expect([person.rows_read, person.rows_written, person.rows_errored]).toEqual([30, 27, 3]);
    expect(errors.map((e) => `${e.key.id} ${e.rule}`).sort()).toEqual(['12 unique', '20 fk_orphan', '25 unique']);
  });

  it('leaves the constraints in place when a run that already put them back runs the load again', async () => {
    const { url, plan, catalog } = await setUp();
    const errors: ErrorQueueEntry[] = [];
    await run(url, plan, catalog, errors);
    expect(await constraints(url)).toEqual(KEPT);
    // The same run again (a resume after a stop that came after the constraints were back): nothing left to load.
    const again = await run(url, plan, catalog, errors);
    expect(await constraints(url)).toEqual(KEPT);
    const person = again.find((o) => o.target === 'person')!;
    expect([person.rows_read, person.rows_written, person.rows_errored]).toEqual([30, 27, 3]);
    expect(errors).toHaveLength(3);
  });

  it('leaves in place a key that a foreign key of another schema depends on, and loads with it', async () => {
    const { url, plan, catalog } = await setUp();
    await pgExec(url, 'CREATE SCHEMA other; CREATE TABLE other.badge (id integer PRIMARY KEY, person_id integer REFERENCES public.person (id))');
    const errors: ErrorQueueEntry[] = [];
    const outcomes = await run(url, plan, catalog, errors);
    expect(await constraints(url)).toEqual(KEPT);
    // person_pk stayed: the load ran with it and nothing was a duplicate of it; the email duplicates were still queued.
    expect(errors.map((e) => `${e.key.id} ${e.rule}`).sort()).toEqual(['12 unique', '20 fk_orphan', '25 unique']);
    const person = outcomes.find((o) => o.target === 'person')!;
    expect([person.rows_read, person.rows_written, person.rows_errored]).toEqual([30, 27, 3]);
    const fk = await pgQuery<{ n: string }>(url, `SELECT count(*) AS n FROM pg_constraint WHERE conrelid = 'other.badge'::regclass AND contype = 'f'`);
    expect(Number(fk[0]!.n)).toBe(1);
  });
});
