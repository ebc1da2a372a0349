// Kill -9 in the middle of a multi-table load, several times, resume each time, then compare source and target row
// for row: nothing lost, nothing written twice, nothing queued twice.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, SENSEI_BIN } from '../../fixtures/cli.js';
import { createPgDatabase, pgQuery, tempDir, type TempDatabase } from '../../fixtures/databases.js';
import { homeWithStore } from '../../fixtures/store-template.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const STORE_FIXTURE = join(ROOT, 'test', 'fixtures', 'store-process.ts');

const DEPTS = 40;
const EMPS = 5000;
const AUDIT = 2500;
const ORPHANS = [17, 1234, 4999]; // emp ids whose dept does not exist
const NULS = [5, 2500]; // emp ids whose name holds a NUL byte

function buildSource(path: string): void {
  const db = new Database(path);
  db.pragma('foreign_keys = OFF'); // the orphans are planted on purpose
  db.exec(`CREATE TABLE dept (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
           CREATE TABLE emp (id INTEGER PRIMARY KEY, dept_id INTEGER REFERENCES dept(id), name TEXT NOT NULL, note TEXT);
           CREATE TABLE audit (at TEXT, msg TEXT);`);
  const d = db.prepare('INSERT INTO dept VALUES (?, ?)');
  const e = db.prepare('INSERT INTO emp VALUES (?, ?, ?, ?)');
  const a = db.prepare('INSERT INTO audit VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= DEPTS; i++) d.run(i, `Dept ${i}`);
    for (let i = 1; i <= EMPS; i++) {
      const dept = ORPHANS.includes(i) ? 900 + i : (i % DEPTS) + 1;
      const name = NULS.includes(i) ? `bad\u0000name ${i}` : `Employee ${i} "quoted"\ttab`;
      e.run(i, dept, name, i % 7 === 0 ? null : `note\\${i}\nline`);
    }
    // Duplicated rows on purpose: a table without a key must keep every copy, no more.
    for (let i = 1; i <= AUDIT; i++) a.run(`2024-01-${String((i % 28) + 1).padStart(2, '0')}`, `event ${i % 1000}`);
  })();
  db.close();
}

interface Child {
  proc: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

function sensei(args: string[], home: string): Child {
  const proc = spawn(process.execPath, [SENSEI_BIN, ...args], {
    env: { ...process.env, SENSEI_STORE_URL: '', SENSEI_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  proc.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code, signal) => resolve(signal ? null : code)));
  return { proc, stderr: () => err, exited };
}

/** The rows the committed checkpoints cover, read on one held connection (a poll costs no connect). */
async function rowsRead(client: pg.Client, runId: string): Promise<number> {
  try {
    const r = await client.query<{ n: string | null }>('SELECT sum(rows_read)::text AS n FROM "_sensei"."checkpoints" WHERE run_id = $1', [runId]);
    return Number(r.rows[0]?.n ?? 0);
  } catch {
    return 0; // not created yet
  }
}

/** Waits until the committed checkpoints cover `atLeast` rows, then SIGKILLs the child; returns the rows covered. */
async function killWhen(child: Child, targetUrl: string, runId: () => string | null, atLeast: number): Promise<number> {
  let exitedEarly = false;
  void child.exited.then(() => (exitedEarly = true));
  const client = new pg.Client({ connectionString: targetUrl });
  await client.connect();
  try {
    for (;;) {
      if (exitedEarly) throw new Error(`the child finished before ${atLeast} rows were committed:\n${child.stderr()}`);
      const id = runId();
      if (id) {
        const n = await rowsRead(client, id);
        if (n >= atLeast) {
          child.proc.kill('SIGKILL');
          expect(await child.exited).toBeNull();
          return n;
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    await client.end();
  }
}

describe('kill -9 during execution and resume', () => {
  const dir = tempDir('sensei-kill-');
  const home = homeWithStore(join(dir.path, 'home'));
  let target: TempDatabase;
  let holder: ChildProcess;
  let runId = '';
  const killedAt: number[] = [];
  let final: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    buildSource(join(dir.path, 'src.db'));
    target = await createPgDatabase('sensei_kill');
    writeFileSync(
      join(dir.path, 'sensei.yaml'),
      `source:\n  url: sqlite://${join(dir.path, 'src.db')}\ntarget:\n  url: ${target.url}\nstrategy:\n  batch_size: 50\n  checkpoint_every: 100\n`,
    );
    // The store is served by a process of its own, as when several Sensei processes share a home: killing the
    // migrating process must not take the store down with it.
    holder = spawn(process.execPath, ['--import', 'tsx', STORE_FIXTURE, home, 'hold'], { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT });
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.once('data', () => resolve());
      holder.once('exit', (c) => reject(new Error(`store holder exited with ${c}`)));
    });

    const total = DEPTS + EMPS + AUDIT;
    const first = sensei(['migrate', '-c', join(dir.path, 'sensei.yaml'), '--yes'], home);
    const id = (): string | null => /\[(run_[a-z0-9_]+)\]/.exec(first.stderr())?.[1] ?? null;
    killedAt.push(await killWhen(first, target.url, id, Math.floor(total * 0.15)));
    runId = id()!;
    for (const share of [0.45, 0.8]) {
      const again = sensei(['resume', runId], home);
      killedAt.push(await killWhen(again, target.url, () => runId, Math.floor(total * share)));
    }
    final = await runCli(['resume', runId, '--json'], { home, env: { SENSEI_STORE_URL: '' } });
  }, 300_000);

  afterAll(async () => {
    holder?.kill('SIGTERM');
    await target?.drop();
    dir.remove();
  });

  it('was killed three times in the middle of the load, each time further on', () => {
    expect(killedAt).toHaveLength(3);
    expect(killedAt[0]!).toBeGreaterThan(0);
    expect(killedAt[1]!).toBeGreaterThan(killedAt[0]!);
    expect(killedAt[2]!).toBeGreaterThan(killedAt[1]!);
    expect(killedAt[2]!).toBeLessThan(DEPTS + EMPS + AUDIT);
  });

  it('finishes on resume with every row accounted for', () => {
    expect(final.code, final.stderr).toBe(0);
    expect(final.json.status).toBe('completed');
    const byTable = Object.fromEntries((final.json.tables as Array<{ source: string; rows_read: number; rows_written: number; rows_errored: number }>).map((t) => [t.source, t]));
    expect(byTable.dept).toMatchObject({ rows_read: DEPTS, rows_written: DEPTS, rows_errored: 0 });
    expect(byTable.emp).toMatchObject({ rows_read: EMPS, rows_written: EMPS - ORPHANS.length - NULS.length, rows_errored: ORPHANS.length + NULS.length });
    expect(byTable.audit).toMatchObject({ rows_read: AUDIT, rows_written: AUDIT, rows_errored: 0 });
  });

  it('holds exactly the source rows in the target: none lost, none doubled', async () => {
    const src = new Database(join(dir.path, 'src.db'), { readonly: true });
    try {
      const bad = new Set([...ORPHANS, ...NULS]);
      const emp = (src.prepare('SELECT id, dept_id, name, note FROM emp ORDER BY emp.id').all() as Array<{ id: number; dept_id: number; name: string; note: string | null }>)
        .filter((r) => !bad.has(r.id))
        .map((r) => [String(r.id), String(r.dept_id), r.name, r.note]);
      const empT = await pgQuery<{ id: string; dept_id: string; name: string; note: string | null }>(target.url, 'SELECT id::text, dept_id::text, name, note FROM emp ORDER BY emp.id');
      expect(empT.map((r) => [r.id, r.dept_id, r.name, r.note])).toEqual(emp);

      const dept = (src.prepare('SELECT id, name FROM dept ORDER BY dept.id').all() as Array<{ id: number; name: string }>).map((r) => [String(r.id), r.name]);
      const deptT = await pgQuery<{ id: string; name: string }>(target.url, 'SELECT id::text, name FROM dept ORDER BY dept.id');
      expect(deptT.map((r) => [r.id, r.name])).toEqual(dept);

      // No key: compare as multisets (each duplicate exactly as often as in the source).
      const audit = (src.prepare('SELECT at, msg FROM audit').all() as Array<{ at: string; msg: string }>).map((r) => `${r.at}|${r.msg}`).sort();
      const auditT = (await pgQuery<{ at: string; msg: string }>(target.url, 'SELECT at, msg FROM audit')).map((r) => `${r.at}|${r.msg}`).sort();
      expect(auditT).toEqual(audit);
    } finally {
      src.close();
    }
  });

  it('queued each bad row exactly once, and removed the checkpoints after certifying', async () => {
    const listed = await runCli(['errors', 'list', runId, '--json'], { home, env: { SENSEI_STORE_URL: '' } });
    expect(listed.code, listed.stderr).toBe(0);
    const keys = (listed.json.errors as Array<{ table: string; key: { id: string }; rule: string }>).map((e) => `${e.table}:${e.key.id}:${e.rule}`).sort();
    expect(keys).toEqual(
      [...ORPHANS.map((id) => `emp:${id}:fk_orphan`), ...NULS.map((id) => `emp:${id}:nul_byte`)].sort(),
    );
    const left = await pgQuery<{ t: string | null }>(target.url, `SELECT to_regnamespace('_sensei')::text AS t`);
    expect(left[0]?.t).toBeNull();
    expect(existsSync(final.json.certificate)).toBe(true);
  });
});
