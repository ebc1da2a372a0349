// A run pauses for approval when mappings are below the threshold, and a new process approves or rejects it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../fixtures/cli.js';
import { createPgDatabase, pgQuery, tempDir, type TempDatabase } from '../fixtures/databases.js';
import { libraryRows, loadLibrarySqlite } from '../fixtures/library-source.js';
import { homeWithStore } from '../fixtures/store-template.js';

const TARGET_DDL = `
CREATE TABLE authors (id integer PRIMARY KEY, full_name varchar(80) NOT NULL, country_code char(2), born date);
CREATE TABLE books (id integer PRIMARY KEY, author_id integer NOT NULL REFERENCES authors (id), title text NOT NULL,
  price numeric(8,2), published_at timestamp, isbn varchar(20));
CREATE TABLE reviews (book_id integer REFERENCES books (id), reviewer varchar(60), stars smallint NOT NULL, body text,
  PRIMARY KEY (book_id, reviewer));
`;

// Time-outs are generous: these are whole CLI processes, and a machine shared with other work makes them slow.
// One home for every step, in order: a rejection and --yes teach the pattern library nothing, so the approval flow still
// pauses in the same home, and only then does the approval teach it (one home and store instead of three).
describe('approval across processes', () => {
  const dir = tempDir('sensei-approve-');
  const home = homeWithStore(join(dir.path, 'home'));
  const targets: TempDatabase[] = [];
  /** A fresh target database and a config for it. */
  const configFor = async (name: string): Promise<{ path: string; db: TempDatabase }> => {
    const db = await createPgDatabase();
    targets.push(db);
    const path = join(dir.path, `${name}.yaml`);
    writeFileSync(path, `source:\n  url: sqlite:library.db\ntarget:\n  url: ${db.url}\n  schema: target.sql\n`);
    return { path, db };
  };
  const publicTables = async (db: TempDatabase) => pgQuery(db.url, "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'");

  beforeAll(() => {
    loadLibrarySqlite(join(dir.path, 'library.db'));
    writeFileSync(join(dir.path, 'target.sql'), TARGET_DDL);
  });
  afterAll(async () => {
    for (const db of targets) await db.drop();
    dir.remove();
  });

  it('a rejected run ends with exit code 5 and leaves the target untouched', async () => {
    const { path, db } = await configFor('reject');
    const first = await runCli(['migrate', '-c', path, '--json'], { home });
    expect(first.code).toBe(3);
    const second = await runCli(['approve', first.json.run_id, '--reject', '--reason', 'names are wrong', '--json'], { home });
    expect(second.code).toBe(5);
    expect(second.json.status).toBe('rejected');
    expect(await publicTables(db)).toEqual([{ n: 0 }]);
  }, 300_000);

  it('--yes approves up front', async () => {
    const { path } = await configFor('yes');
    const run = await runCli(['migrate', '-c', path, '--yes', '--json'], { home });
    expect(run.code).toBe(0);
    expect(run.json.status).toBe('completed');
  }, 300_000);

  it('pauses with exit code 3, lists what needs a human, then completes after `sensei approve` in a new process', async () => {
    const { path, db } = await configFor('approve');
    // Neither the rejection nor --yes above taught the pattern library anything: the same mappings still need a human.
    const first = await runCli(['migrate', '-c', path, '--json'], { home });
    expect(first.code).toBe(3);
    expect(first.json.status).toBe('awaiting_approval');
    const pending = first.json.approval_request.pending.map((m: { sourceColumn: string; targetColumn: string; band: string }) => `${m.sourceColumn}→${m.targetColumn}:${m.band}`);
    expect(pending).toEqual(['name→full_name:explicit', 'country→country_code:explicit']);
    expect(first.json.approval_request.counts).toEqual({ auto: 12, review: 0, explicit: 2, approved: 0 });
    // Nothing touched the target before approval: the DDL is applied only at execution.
    expect(await publicTables(db)).toEqual([{ n: 0 }]);

    const runId = first.json.run_id as string;
    const status = await runCli(['status', runId, '--json'], { home });
    expect(status.json.status).toBe('awaiting_approval');

    const second = await runCli(['approve', runId, '--by', 'alice', '--json'], { home });
    expect(second.code).toBe(0);
    expect(second.json.status).toBe('completed');
    expect(second.json.tables.map((t: { rows_written: number }) => t.rows_written)).toEqual([7, 60, libraryRows().reviews.length]);
    const authors = await pgQuery(db.url, 'SELECT full_name, country_code FROM authors ORDER BY id');
    expect(authors).toEqual(libraryRows().authors.map((a) => ({ full_name: a.name, country_code: a.country })));

    const again = await runCli(['approve', runId, '--json'], { home });
    expect(again.code).toBe(1);
    expect(again.json.error.message).toMatch(/is completed, not waiting for approval/);
  }, 300_000);

  it('learns from the approval: the same migration in the same home needs no human the second time', async () => {
    const { path } = await configFor('learned');
    // The approved name→full_name and country→country_code are in the pattern library now, asked first by the mapper.
    // (The same migration in this home paused twice above, before the approval.)
    const run = await runCli(['migrate', '-c', path, '--json'], { home });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json.status).toBe('completed');
  }, 300_000);

  it('refuses to approve a run that does not exist', async () => {
    const r = await runCli(['approve', 'run_nope'], { home });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no run run_nope/);
  });
});
