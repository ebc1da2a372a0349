// The Sensei store on embedded PGlite (and its refusal of a server without pgvector): migrations, records, the
// encrypted error queue, pgvector, LangGraph checkpoints, and sharing one data dir between openers through the lock.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotation, Command, END, interrupt, START, StateGraph } from '@langchain/langgraph';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunStateError, StoreError } from '../../core/errors.js';
import { openStore, redactUrl, type SenseiStore } from '../../tools/store/sensei-store.js';
import { applyStoreMigrations, STORE_MIGRATIONS } from '../../tools/store/store-migrations.js';
import { tempDir } from '../fixtures/databases.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'store-process.ts');
const SECRET = 'alice@example.com';

const temps: Array<{ remove(): void }> = [];
function newHome(): string {
  const d = tempDir('sensei-store-');
  temps.push(d);
  // A subdirectory, so that openStore has to create the home itself.
  return join(d.path, 'home');
}
afterAll(() => {
  for (const d of temps.splice(0)) d.remove();
});

function readLock(home: string): { pid: number; port: number | null } {
  return JSON.parse(readFileSync(join(home, 'store.lock'), 'utf8')) as { pid: number; port: number | null };
}

/** A pid that certainly belongs to no running process: one that has just exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid as number;
}

function vec(f: (i: number) => number): string {
  return `[${Array.from({ length: 128 }, (_, i) => f(i)).join(',')}]`;
}

/** Run the fixture process and return its first stdout line as JSON (plus the child, still running for `hold`). */
function startFixture(args: string[]): Promise<{ line: Record<string, unknown>; child: ReturnType<typeof spawn>; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args], {
    cwd: ROOT,
    env: { ...process.env, SENSEI_ENCRYPTION_KEY: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl !== -1) resolve({ line: JSON.parse(out.slice(0, nl)) as Record<string, unknown>, child, exited });
    });
    void exited.then((code) => reject(new Error(`fixture exited with ${code} before answering: ${err}`)));
  });
}

describe('embedded store', () => {
  let home: string;
  let store: SenseiStore;

  beforeAll(async () => {
    home = newHome();
    store = await openStore({ home });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('creates the home 0700, serves the data dir, and writes the lock with pid and port', async () => {
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(store.mode).toBe('embedded-server');
    expect(store.location).toBe(`embedded PGlite at ${join(home, 'store')}`);
    const lock = readLock(home);
    expect(lock.pid).toBe(process.pid);
    expect(lock.port).toBeGreaterThan(0);
    expect(statSync(join(home, 'keys', 'encryption.key')).mode & 0o777).toBe(0o600);
  });

  it('runs PGlite with a 16MB buffer pool instead of the data dir default of 128MB', async () => {
    const { rows } = await store.pool.query<{ shared_buffers: string }>('SHOW shared_buffers');
    expect(rows[0]?.shared_buffers).toBe('16MB');
  });

  it('applies every migration once, in order', async () => {
    const { rows } = await store.pool.query<{ version: number; name: string }>('SELECT version, name FROM sensei_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(STORE_MIGRATIONS.map((m) => m.version));
    expect(await applyStoreMigrations(store.pool)).toEqual([]);
    const tables = await store.pool.query<{ tablename: string }>(
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'sensei_%' ORDER BY tablename",
    );
    expect(tables.rows.map((r) => r.tablename)).toEqual([
      'sensei_approvals',
      'sensei_capture_detail',
      'sensei_capture_queries',
      'sensei_captures',
      'sensei_certificates',
      'sensei_error_queue',
      'sensei_migrations',
      'sensei_patterns',
      'sensei_runs',
      'sensei_tokens',
      'sensei_validation_results',
      'sensei_waivers',
    ]);
  });

  it('round-trips runs, masks inline secrets in their config, and refuses unknown or duplicate ids', async () => {
    const created = await store.createRun({
      id: 'run-a',
      status: 'running',
      stage: 'analyze',
      config: {
        source: { url: 'postgres://app:s3cret-pw@db.internal:5432/shop', credentials: 'env://SOURCE_PW' },
        target: { url: 'pglite:///tmp/t', password: 'inline-pw' },
        strategy: { batch_size: 500 },
      },
    });
    expect(created).toMatchObject({ id: 'run-a', status: 'running', stage: 'analyze', summary: null, error: null, certificatePath: null });
    expect(created.config).toEqual({
      source: { url: 'postgres://app:***@db.internal:5432/shop', credentials: 'env://SOURCE_PW' },
      target: { url: 'pglite:///tmp/t', password: '***' },
      strategy: { batch_size: 500 },
    });
    const raw = await store.pool.query<{ t: string }>("SELECT config::text AS t FROM sensei_runs WHERE id = 'run-a'");
    expect(raw.rows[0]?.t).not.toContain('s3cret-pw');
    expect(raw.rows[0]?.t).not.toContain('inline-pw');

    await new Promise((r) => setTimeout(r, 5));
    const updated = await store.updateRun('run-a', { status: 'completed', stage: 'done', summary: [{ rows: 3n }], certificatePath: '/c.json' });
    expect(updated).toMatchObject({ status: 'completed', stage: 'done', summary: [{ rows: '3' }], certificatePath: '/c.json', error: null });
    expect(Date.parse(updated.updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt));
    expect(updated.createdAt).toBe(created.createdAt);
    expect(await store.updateRun('run-a', { error: 'boom' })).toMatchObject({ status: 'completed', error: 'boom' });
    expect(await store.getRun('run-a')).toEqual({ ...updated, error: 'boom', updatedAt: expect.any(String) });
    expect(await store.getRun('nope')).toBeNull();

    await store.createRun({ id: 'run-b', status: 'running', stage: 'plan', config: {} });
    expect((await store.listRuns()).map((r) => r.id).slice(0, 2)).toEqual(['run-b', 'run-a']);
    expect((await store.listRuns(1)).map((r) => r.id)).toEqual(['run-b']);

    await expect(store.updateRun('nope', { status: 'failed' })).rejects.toThrow(RunStateError);
    await expect(store.createRun({ id: 'run-a', status: 'running', stage: 'analyze', config: {} })).rejects.toThrow(/already exists/);
  });

  it('keeps an append-only approvals trail', async () => {
    await store.createRun({ id: 'run-appr', status: 'awaiting_approval', stage: 'approve', config: {} });
    const first = await store.recordApproval({ runId: 'run-appr', decision: 'reject', by: 'dana', reason: 'wrong currency', at: '2024-05-01T10:00:00.000Z' });
    const second = await store.recordApproval({ runId: 'run-appr', decision: 'approve', by: 'auto', detail: { mappings: 12 } });
    expect(first).toEqual({
      id: expect.any(Number),
      runId: 'run-appr',
      decision: 'reject',
      by: 'dana',
      reason: 'wrong currency',
      detail: null,
      at: '2024-05-01T10:00:00.000Z',
    });
    expect(await store.listApprovals('run-appr')).toEqual([first, second]);
    expect(second.detail).toEqual({ mappings: 12 });
    expect(Math.abs(Date.parse(second.at) - Date.now())).toBeLessThan(60_000);
    await expect(store.pool.query("UPDATE sensei_approvals SET decision = 'approve' WHERE run_id = 'run-appr'")).rejects.toThrow(/append-only/);
    await expect(store.pool.query("DELETE FROM sensei_approvals WHERE run_id = 'run-appr'")).rejects.toThrow(/append-only/);
    await expect(store.recordApproval({ runId: 'ghost', decision: 'approve', by: 'x' })).rejects.toThrow(RunStateError);
  });

  it('stores error-queue rows encrypted and gives them back decrypted', async () => {
    await store.createRun({ id: 'run-err', status: 'running', stage: 'execute', config: {} });
    const entries = [
      { table: 'customers', column: 'email', rule: 'not_null', stage: 'execute', key: [7], row: [7, SECRET, 12n], reason: `value ${SECRET} rejected` },
      { table: 'customers', column: null, rule: 'fk', stage: 'execute', key: [8], row: [8, null, Buffer.from('xyz')], reason: 'orphan' },
      { table: 'orders', column: 'total', rule: 'cast', stage: 'recover', key: ['o-1'], row: ['o-1', '12.5x'], reason: 'not a number' },
    ];
    expect(await store.addErrors('run-err', entries)).toBe(3);
    expect(await store.addErrors('run-err', [])).toBe(0);

    const listed = await store.listErrors('run-err');
    expect(listed).toEqual(entries.map((e) => ({ ...e, id: expect.any(Number), createdAt: expect.any(String), resolvedAt: null })));
    expect(listed.map((e) => e.id)).toEqual([...listed.map((e) => e.id)].sort((a, b) => a - b));
    expect(await store.countErrors('run-err')).toEqual({ customers: 2, orders: 1 });
    expect(await store.countErrors('run-a')).toEqual({});

    // Idempotent: the same rows queued again (a resumed segment) are not stored twice; a new one is.
    const again = { table: 'orders', column: 'total', rule: 'cast', stage: 'recover', key: ['o-2'], row: ['o-2', 'x'], reason: 'not a number' };
    expect(await store.addErrors('run-err', [...entries, again])).toBe(1);
    expect(await store.countErrors('run-err')).toEqual({ customers: 2, orders: 2 });
    // Resolved by a retry: no longer counted or listed, unless asked for.
    const second = (await store.listErrors('run-err')).find((e) => e.key instanceof Array && e.key[0] === 'o-2')!;
    expect(await store.resolveErrors('run-err', [second.id])).toBe(1);
    expect(await store.resolveErrors('run-err', [second.id])).toBe(0);
    expect(await store.countErrors('run-err')).toEqual({ customers: 2, orders: 1 });
    expect((await store.listErrors('run-err', { includeResolved: true })).find((e) => e.id === second.id)?.resolvedAt).toEqual(expect.any(String));
    expect(await store.clearErrors('run-err', 'customers')).toBe(2);
    expect(await store.countErrors('run-err')).toEqual({ orders: 1 });
    expect(await store.addErrors('run-err', entries)).toBe(2);

    const raw = await store.pool.query<{ payload: Buffer; as_text: string; whole: string }>(
      "SELECT payload, payload::text AS as_text, q::text AS whole FROM sensei_error_queue q WHERE run_id = 'run-err'",
    );
    expect(raw.rows).toHaveLength(4);
    for (const r of raw.rows) {
      expect(r.payload.toString('latin1')).not.toContain(SECRET);
      expect(r.payload.toString('utf8')).not.toContain(SECRET);
      expect(r.as_text).not.toContain(SECRET);
      expect(r.as_text).not.toContain(Buffer.from(SECRET).toString('hex'));
      expect(r.whole).not.toContain('rejected');
    }
    await expect(store.addErrors('ghost', entries)).rejects.toThrow(RunStateError);
  });

  it('refuses a payload moved to another run', async () => {
    await store.createRun({ id: 'run-move', status: 'running', stage: 'execute', config: {} });
    await store.pool.query(
      "INSERT INTO sensei_error_queue (run_id, table_name, column_name, rule, stage, payload) SELECT 'run-move', table_name, column_name, rule, stage, payload FROM sensei_error_queue WHERE run_id = 'run-err' LIMIT 1",
    );
    await expect(store.listErrors('run-move')).rejects.toThrow('cannot decrypt error-queue entry');
  });

  it('saves and replaces certificates', async () => {
    await store.saveCertificate('run-a', '{"v":1}\n', '/certs/a.json');
    const first = await store.getCertificate('run-a');
    expect(first).toEqual({ runId: 'run-a', body: '{"v":1}\n', path: '/certs/a.json', createdAt: expect.any(String) });
    await store.saveCertificate('run-a', '{"v":2}\n', '/certs/a2.json');
    expect(await store.getCertificate('run-a')).toMatchObject({ body: '{"v":2}\n', path: '/certs/a2.json' });
    expect(await store.getCertificate('run-b')).toBeNull();
    await expect(store.saveCertificate('ghost', '{}', '/x')).rejects.toThrow(RunStateError);
  });

  it('searches pattern fingerprints by cosine distance with the HNSW index', async () => {
    const insert = 'INSERT INTO sensei_patterns (source_signature, target_signature, fingerprint, transformation) VALUES ($1, $2, $3::vector, $4)';
    await store.pool.query(insert, ['int', 'integer', vec((i) => (i % 2 === 0 ? 1 : 0)), 'CAST(src.x AS integer)']);
    await store.pool.query(insert, ['text', 'varchar', vec((i) => (i % 2 === 0 ? 0 : 1)), 'CAST(src.x AS varchar)']);
    const probe = vec((i) => (i % 2 === 0 ? 0.1 : 0.9));
    const { rows } = await store.pool.query<{ source_signature: string; d: number }>(
      'SELECT source_signature, fingerprint <=> $1::vector AS d FROM sensei_patterns ORDER BY fingerprint <=> $1::vector',
      [probe],
    );
    expect(rows.map((r) => r.source_signature)).toEqual(['text', 'int']);
    expect(rows[0]?.d).toBeLessThan(rows[1]?.d as number);
    const idx = await store.pool.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE tablename = 'sensei_patterns' AND indexdef LIKE '%hnsw%'");
    expect(idx.rows[0]?.indexdef).toContain('vector_cosine_ops');
    await expect(store.pool.query(insert, ['a', 'b', '[1,2,3]', 'x'])).rejects.toThrow(/128/);
  });

  it('keeps LangGraph checkpoints: interrupt, then resume with Command', async () => {
    const State = Annotation.Root({ log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }) });
    const graph = new StateGraph(State)
      .addNode('ask', () => {
        const answer = interrupt({ question: 'approve?' }) as string;
        return { log: [`answer:${answer}`] };
      })
      .addNode('finish', () => ({ log: ['finished'] }))
      .addEdge(START, 'ask')
      .addEdge('ask', 'finish')
      .addEdge('finish', END)
      .compile({ checkpointer: store.checkpointer });
    const cfg = { configurable: { thread_id: 'thread-1' } };
    await graph.invoke({ log: ['start'] }, cfg);
    const paused = await graph.getState(cfg);
    expect(paused.next).toEqual(['ask']);
    expect(paused.tasks[0]?.interrupts[0]?.value).toEqual({ question: 'approve?' });
    const done = await graph.invoke(new Command({ resume: 'yes' }), cfg);
    expect(done.log).toEqual(['start', 'answer:yes', 'finished']);
    const saved = await store.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM checkpoints WHERE thread_id = 'thread-1'");
    expect(saved.rows[0]?.n).toBeGreaterThan(1);
  });

  it('lets a second opener in the same process use the running server through the lock', async () => {
    const second = await openStore({ home });
    try {
      expect(second.mode).toBe('embedded-client');
      expect(second.location).toBe(store.location);
      expect((await second.getRun('run-a'))?.id).toBe('run-a');
      await second.createRun({ id: 'run-from-second', status: 'running', stage: 'analyze', config: {} });
      expect((await store.getRun('run-from-second'))?.status).toBe('running');
      expect(await second.listErrors('run-err')).toHaveLength(3);
    } finally {
      await second.close();
    }
    // The client's close leaves the server and its lock alone.
    expect(readLock(home).pid).toBe(process.pid);
    expect((await store.getRun('run-from-second'))?.id).toBe('run-from-second');
  });

  it('lets another process connect through the lock while this one holds the store', async () => {
    const { line, exited } = await startFixture([home, 'read', 'run-a']);
    expect(line.mode).toBe('embedded-client');
    expect((line.run as { id: string; status: string }).status).toBe('completed');
    expect(await exited).toBe(0);
    expect((await store.getRun('run-a-from-child'))?.config).toEqual({ pid: expect.any(Number) });
    expect(readLock(home).pid).toBe(process.pid);
  });
});

// Each test opens fresh data dirs (several seconds each on a busy machine) and some spawn a second process.
describe('embedded store lifecycle', { timeout: 120_000 }, () => {
  it('survives close and re-open without re-applying migrations; close removes the lock', async () => {
    const home = newHome();
    const a = await openStore({ home });
    await a.createRun({ id: 'run-kept-7f3a9c', status: 'running', stage: 'analyze', config: { n: 1 } });
    await a.addErrors('run-kept-7f3a9c', [{ table: 't', column: null, rule: 'r', stage: 'execute', key: [1], row: [SECRET], reason: 'x' }]);
    const before = await a.pool.query<{ version: number; applied_at: Date }>('SELECT version, applied_at FROM sensei_migrations ORDER BY version');
    await a.close();
    await a.close();
    expect(existsSync(join(home, 'store.lock'))).toBe(false);

    const b = await openStore({ home });
    try {
      expect(b.mode).toBe('embedded-server');
      const after = await b.pool.query<{ version: number; applied_at: Date }>('SELECT version, applied_at FROM sensei_migrations ORDER BY version');
      expect(after.rows).toEqual(before.rows);
      expect((await b.getRun('run-kept-7f3a9c'))?.config).toEqual({ n: 1 });
      expect((await b.listErrors('run-kept-7f3a9c'))[0]?.row).toEqual([SECRET]);
    } finally {
      await b.close();
    }
    // The row value never reaches the disk in clear: not in tables, WAL or anything else under the data dir.
    const needle = Buffer.from(SECRET);
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
    const files = walk(join(home, 'store'));
    expect(files.filter((f) => readFileSync(f).includes(needle))).toEqual([]);
    // Control: the scan does see what is stored in clear, such as the run id.
    expect(files.some((f) => readFileSync(f).includes(Buffer.from('run-kept-7f3a9c')))).toBe(true);
  });

  it('lets two openers racing on a fresh home share one server instead of both opening the data dir', async () => {
    const home = newHome();
    const stores = await Promise.all([openStore({ home }), openStore({ home })]);
    const server = stores.find((s) => s.mode === 'embedded-server');
    const client = stores.find((s) => s.mode === 'embedded-client');
    try {
      expect(server).toBeDefined();
      expect(client).toBeDefined();
      await server?.createRun({ id: 'raced', status: 'running', stage: 'analyze', config: {} });
      expect((await client?.getRun('raced'))?.id).toBe('raced');
    } finally {
      await client?.close();
      await server?.close();
    }
    expect(existsSync(join(home, 'store.lock'))).toBe(false);
  });

  it('cannot read the error queue with another encryption key', async () => {
    const home = newHome();
    const saved = process.env.SENSEI_ENCRYPTION_KEY;
    try {
      process.env.SENSEI_ENCRYPTION_KEY = randomBytes(32).toString('hex');
      const a = await openStore({ home });
      await a.createRun({ id: 'r', status: 'running', stage: 'execute', config: {} });
      await a.addErrors('r', [{ table: 't', column: 'c', rule: 'r', stage: 'execute', key: [1], row: [SECRET], reason: 'x' }]);
      expect((await a.listErrors('r'))[0]?.row).toEqual([SECRET]);
      await a.close();
      // With an env key no key file is written into the home.
      expect(existsSync(join(home, 'keys', 'encryption.key'))).toBe(false);

      process.env.SENSEI_ENCRYPTION_KEY = randomBytes(32).toString('base64');
      const b = await openStore({ home });
      try {
        await expect(b.listErrors('r')).rejects.toThrow(StoreError);
        await expect(b.listErrors('r')).rejects.toThrow('wrong SENSEI_ENCRYPTION_KEY or altered data');
        expect(await b.countErrors('r')).toEqual({ t: 1 });
      } finally {
        await b.close();
      }
    } finally {
      if (saved === undefined) delete process.env.SENSEI_ENCRYPTION_KEY;
      else process.env.SENSEI_ENCRYPTION_KEY = saved;
    }
  });

  it('takes over a stale lock left by a dead process or by an earlier process with our pid', async () => {
    const home = newHome();
    const first = await openStore({ home });
    await first.close();

    writeFileSync(join(home, 'store.lock'), JSON.stringify({ pid: deadPid(), port: 1, startedAt: 'crashed' }));
    const a = await openStore({ home });
    expect(a.mode).toBe('embedded-server');
    expect(readLock(home).pid).toBe(process.pid);
    await a.close();

    writeFileSync(join(home, 'store.lock'), JSON.stringify({ pid: process.pid, port: null, startedAt: 'previous container' }));
    const b = await openStore({ home });
    expect(b.mode).toBe('embedded-server');
    await b.close();
    expect(existsSync(join(home, 'store.lock'))).toBe(false);

    writeFileSync(join(home, 'store.lock'), 'garbage');
    const old = new Date(Date.now() - 60_000);
    const { utimesSync } = await import('node:fs');
    utimesSync(join(home, 'store.lock'), old, old);
    const c = await openStore({ home });
    expect(c.mode).toBe('embedded-server');
    await c.close();
  });

  it('refuses a store locked by a live process that does not answer, naming the pid and the lock', async () => {
    const home = newHome();
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const { mkdirSync } = await import('node:fs');
      mkdirSync(home, { recursive: true });
      writeFileSync(join(home, 'store.lock'), JSON.stringify({ pid: holder.pid, port: 1, startedAt: 'x' }));
      const err = await openStore({ home, lockWaitMs: 600 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).message).toContain(`locked by process ${holder.pid}`);
      expect((err as StoreError).hint).toContain(join(home, 'store.lock'));
      // The data dir was not opened and the foreign lock is untouched.
      expect(existsSync(join(home, 'store'))).toBe(false);
      expect(readLock(home).pid).toBe(holder.pid);
    } finally {
      holder.kill();
    }
  });

  it('reports a data dir its child process cannot create, leaves what was there and releases the lock', async () => {
    const home = newHome();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(home, { recursive: true });
    // A file where the data dir should be: initdb cannot create the directory.
    writeFileSync(join(home, 'store'), 'not a directory');
    const err = await openStore({ home }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).message).toContain(`cannot open the embedded store at ${join(home, 'store')}: creating the data dir failed in its child process (exit code 1)`);
    expect(readFileSync(join(home, 'store'), 'utf8')).toBe('not a directory');
    expect(existsSync(join(home, 'store.lock'))).toBe(false);
  });

  it('serves another process as client; when the serving process is stopped by a signal it removes its lock', async () => {
    const home = newHome();
    const { line, child, exited } = await startFixture([home, 'hold']);
    try {
      expect(line).toMatchObject({ mode: 'embedded-server', ok: true });
      const lock = readLock(home);
      expect(lock.pid).toBe(child.pid);
      const client = await openStore({ home });
      try {
        expect(client.mode).toBe('embedded-client');
        await client.createRun({ id: 'via-child-server', status: 'running', stage: 'analyze', config: {} });
        expect((await client.getRun('via-child-server'))?.stage).toBe('analyze');
      } finally {
        await client.close();
      }
    } finally {
      child.kill('SIGTERM');
    }
    await exited;
    expect(existsSync(join(home, 'store.lock'))).toBe(false);
    const after = await openStore({ home });
    expect(after.mode).toBe('embedded-server');
    await after.close();
  });
});

describe('store at SENSEI_STORE_URL', () => {
  it('refuses a server without pgvector, with the password masked', async () => {
    const url = 'postgres://postgres:hunter2@127.0.0.1:5432/postgres';
    const err = await openStore({ home: newHome(), url }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    const e = err as StoreError;
    expect(e.message).toBe('the store at postgres://postgres:***@127.0.0.1:5432/postgres has no pgvector extension');
    expect(e.hint).toContain('unset SENSEI_STORE_URL');
    expect(`${e.message} ${e.hint} ${String(e.stack)}`).not.toContain('hunter2');
  });

  it('reports an unreachable server without the password', async () => {
    const err = await openStore({ home: newHome(), url: 'postgres://postgres:hunter2@127.0.0.1:1/postgres' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).message).toMatch(/^cannot connect to the store at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/postgres/);
    expect(`${(err as StoreError).message} ${(err as StoreError).hint}`).not.toContain('hunter2');
  });

  it('masks passwords in URLs for display', () => {
    expect(redactUrl('postgres://u:pw@h:5/db?sslpassword=x&application_name=a')).toBe('postgres://u:***@h:5/db?sslpassword=***&application_name=a');
    expect(redactUrl('postgres://u@h/db')).toBe('postgres://u@h/db');
    expect(redactUrl('not a url pw')).toBe('<unparsable store URL>');
  });
});
