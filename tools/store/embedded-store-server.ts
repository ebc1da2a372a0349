// The embedded store's server: one PGlite per data dir, served on a loopback port and shared through a lock file.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { StoreError } from '../../core/errors.js';
import { defaultStoreTemplateDir, unpackStoreTemplate } from './store-template.js';

/** Where to reach the embedded store, and whether this process serves it. */
export interface EmbeddedStoreServer {
  /**
   * `server`: this process opened the data dir and serves it (it holds the lock).
   * `client`: another open store (maybe another process) serves it; this one only connects.
   */
  readonly role: 'server' | 'client';
  readonly host: '127.0.0.1';
  readonly port: number;
  /** `<home>/store`. */
  readonly dataDir: string;
  /** `<home>/store.lock`. */
  readonly lockPath: string;
  /** As server: stop serving, close PGlite, remove the lock. As client: nothing to release. Idempotent. */
  close(): Promise<void>;
}

export interface EmbeddedStoreServerOptions {
  /**
   * How long to wait for a store that another live process is still starting (its lock has no port yet) or that
   * does not answer yet, before giving up with a StoreError. Default 30,000 ms (first creation of a data dir takes
   * several seconds).
   */
  waitMs?: number;
  /** Most connections the socket server accepts at once, from all processes together. Default 16. */
  maxConnections?: number;
  /**
   * The store template a new data dir is unpacked from (`tools/store/store-template.ts`). Default: the build's,
   * `dist/store-template`. `null`: always create a new data dir with initdb, as the build does to make the template.
   */
  template?: string | null;
  /** Where to say that a new data dir is made with initdb because the template cannot be used. Default: stderr. */
  onNotice?: (message: string) => void;
}

/** Contents of `<home>/store.lock`. `port` is null while the owner is still starting PGlite. */
interface StoreLock {
  pid: number;
  port: number | null;
  startedAt: string;
}

const LOOPBACK = '127.0.0.1';

/**
 * PGlite's buffer pool. Its pages live in WebAssembly memory, which is never given back, so the data dir's default
 * (initdb's 128MB) would end up resident for the whole run; the store's working set (runs, checkpoints, capture
 * buckets, the pattern library) is small, and pages beyond the pool are read from the data dir's files.
 */
const SHARED_BUFFERS = '16MB';

// Data dirs this process is opening or serving: a lock naming our own pid is stale unless it is listed here
// (in a container a restarted process often gets the same pid as the one that crashed).
const ownedHere = new Map<string, { lock: StoreLock; lockPath: string }>();

/**
 * Serve the embedded store of `home`, or connect to the process that already serves it. Exactly one PGlite opens
 * `<home>/store`: the first process creates `<home>/store.lock` (exclusive create) holding `{ pid, port }` and serves
 * the dir on 127.0.0.1 (a free port); later openers that find a live pid and a reachable port become clients of that
 * port. A lock whose pid is dead is stale and taken over. When the serving process closes, its clients lose the
 * store: open it again to take over.
 */
export async function connectEmbeddedStoreServer(
  home: string,
  options: EmbeddedStoreServerOptions = {},
): Promise<EmbeddedStoreServer> {
  const dataDir = join(home, 'store');
  const lockPath = join(home, 'store.lock');
  const waitMs = options.waitMs ?? 30_000;
  const deadline = Date.now() + waitMs;
  mkdirSync(home, { recursive: true, mode: 0o700 });

  for (;;) {
    const mine: StoreLock = { pid: process.pid, port: null, startedAt: `${new Date().toISOString()}#${randomBytes(4).toString('hex')}` };
    if (tryCreateLock(lockPath, mine)) {
      return serve(dataDir, lockPath, mine, options);
    }

    const lock = readLock(lockPath);
    if (lock === 'missing') continue;
    if (lock === 'unreadable') {
      // A lock is written in one call, so an unreadable one that stays so is debris from a crash.
      if (ageMs(lockPath) > 5_000) await takeOver(lockPath, null);
      else await sleep(100);
      continue;
    }
    if (isStale(lock, dataDir)) {
      await takeOver(lockPath, lock);
      continue;
    }
    if (lock.port !== null && (await isListening(lock.port))) {
      return client(dataDir, lockPath, lock.port);
    }
    if (Date.now() > deadline) {
      const where = lock.port === null ? 'has not finished starting it' : `does not answer on ${LOOPBACK}:${lock.port}`;
      throw new StoreError(`the embedded store at ${dataDir} is locked by process ${lock.pid}, which ${where}`, {
        hint: `if process ${lock.pid} is not a Sensei process (its pid may have been reused after a crash), delete ${lockPath} and try again; or set SENSEI_STORE_URL`,
      });
    }
    await sleep(200);
  }
}

async function serve(dataDir: string, lockPath: string, lock: StoreLock, options: EmbeddedStoreServerOptions): Promise<EmbeddedStoreServer> {
  ownedHere.set(dataDir, { lock, lockPath });
  let db: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  try {
    await createDataDirIfMissing(dataDir, options.template === undefined ? defaultStoreTemplateDir() : options.template, options.onNotice ?? stderrNotice);
    db = await PGlite.create({ dataDir, extensions: { vector }, startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${SHARED_BUFFERS}`] });
    server = new PGLiteSocketServer({ db, host: LOOPBACK, port: 0, maxConnections: options.maxConnections ?? 16 });
    await server.start();
    lock.port = Number(server.getServerConn().split(':').pop());
    writeFileSync(lockPath, JSON.stringify(lock), { mode: 0o600 });
  } catch (e) {
    await server?.stop().catch(() => undefined);
    await db?.close().catch(() => undefined);
    releaseLock(dataDir, lockPath);
    throw new StoreError(`cannot open the embedded store at ${dataDir}: ${(e as Error).message}`, {
      hint: 'check that the directory is writable and not damaged, or set SENSEI_STORE_URL to use a PostgreSQL server with pgvector',
      cause: e,
    });
  }
  watchSignals();
  const port = lock.port;
  let closing: Promise<void> | undefined;
  return {
    role: 'server',
    host: LOOPBACK,
    port,
    dataDir,
    lockPath,
    close() {
      closing ??= (async () => {
        try {
          await server.stop();
          await db.close();
        } finally {
          releaseLock(dataDir, lockPath);
          unwatchSignalsIfIdle();
        }
      })();
      return closing;
    },
  };
}

// Creating a data dir (initdb) grows PGlite's WebAssembly memory to several times what serving an existing one needs
// (about 740 MB: initdb drives a second PGlite instance inside the first), and WebAssembly memory is never given back.
// So a new data dir is unpacked from the store template the build made (tools/store/store-template.ts), which runs no
// PGlite at all. Without a usable template, a short child process creates the data dir and exits, and this process
// opens the existing dir. The child loads PGlite's CommonJS build by absolute path, which works whether this module
// runs built (dist/) or from source (tsx, vitest).
const CREATE_DATA_DIR = `
const [pglite, dataDir] = process.argv.slice(1);
require(pglite).PGlite.create({ dataDir })
  .then((db) => db.close())
  .catch((e) => { process.stderr.write(String(e && e.message || e)); process.exitCode = 1; });
`;

/** PGlite's own test for an existing database in a data dir. */
const hasDatabase = (dataDir: string): boolean => existsSync(join(dataDir, 'PG_VERSION'));

const stderrNotice = (message: string): void => {
  process.stderr.write(`sensei: ${message}\n`);
};

/**
 * Give `dataDir` a database when it holds none yet: from `template` (a template dir, or null for none), else by initdb
 * in a child process, after saying why through `notice`. The caller holds the store lock, so no other process opens
 * the dir meanwhile. A dir this call created is removed again when the child fails, so the next attempt starts clean;
 * a dir that existed before is left as it was.
 */
async function createDataDirIfMissing(dataDir: string, template: string | null, notice: (message: string) => void): Promise<void> {
  if (hasDatabase(dataDir)) return;
  if (template !== null) {
    const r = await unpackStoreTemplate(template, dataDir);
    if (r.unpacked) return;
    notice(`${r.reason}; creating the embedded store with initdb instead, which takes several seconds and about 750 MB of memory once`);
  }
  const existed = existsSync(dataDir);
  const pglite = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  // Liftoff only: a process that runs initdb once and exits gains nothing from V8's optimising WebAssembly compiler.
  const child = spawn(process.execPath, ['--liftoff-only', '-e', CREATE_DATA_DIR, pglite, dataDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-2_000)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, signal) => resolve(signal ? null : c));
  });
  if (code === 0 && hasDatabase(dataDir)) return;
  if (!existed) rmSync(dataDir, { recursive: true, force: true });
  throw new Error(`creating the data dir failed in its child process (${code === null ? 'killed by a signal' : `exit code ${code}`})${err ? `: ${err.trim()}` : ''}`);
}

function client(dataDir: string, lockPath: string, port: number): EmbeddedStoreServer {
  return { role: 'client', host: LOOPBACK, port, dataDir, lockPath, close: async () => undefined };
}

function tryCreateLock(lockPath: string, lock: StoreLock): boolean {
  try {
    writeFileSync(lockPath, JSON.stringify(lock), { flag: 'wx', mode: 0o600 });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StoreError(`cannot create the store lock ${lockPath}: ${(e as Error).message}`, {
      hint: 'make the Sensei home (SENSEI_HOME) writable',
      cause: e,
    });
  }
}

function readLock(lockPath: string): StoreLock | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(lockPath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    return 'unreadable';
  }
  try {
    const v = JSON.parse(text) as Partial<StoreLock>;
    if (Number.isInteger(v.pid) && (v.port === null || Number.isInteger(v.port)) && typeof v.startedAt === 'string') {
      return { pid: v.pid as number, port: v.port as number | null, startedAt: v.startedAt };
    }
  } catch {
    // fall through: not a lock we wrote
  }
  return 'unreadable';
}

function isStale(lock: StoreLock, dataDir: string): boolean {
  if (lock.pid === process.pid) return ownedHere.get(dataDir)?.lock.startedAt !== lock.startedAt;
  try {
    process.kill(lock.pid, 0);
    return false;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else, so it is alive.
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Remove a stale lock so the caller can create its own. A second lock file serialises takers-over, so two processes
 * finding the same stale lock cannot both remove it and then both open the data dir.
 */
async function takeOver(lockPath: string, stale: StoreLock | null): Promise<void> {
  const guard = `${lockPath}.takeover`;
  try {
    writeFileSync(guard, String(process.pid), { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new StoreError(`cannot take over the stale store lock ${lockPath}: ${(e as Error).message}`, {
        hint: `make the Sensei home writable, or delete ${lockPath} by hand`,
        cause: e,
      });
    }
    // Someone else is taking over; a guard left by a crash expires.
    if (ageMs(guard) > 10_000) rmQuiet(guard);
    await sleep(50);
    return;
  }
  try {
    const now = readLock(lockPath);
    const same =
      stale === null ? now === 'unreadable' : typeof now === 'object' && now.pid === stale.pid && now.startedAt === stale.startedAt;
    if (same) rmQuiet(lockPath);
  } finally {
    rmQuiet(guard);
  }
}

function releaseLock(dataDir: string, lockPath: string): void {
  const mine = ownedHere.get(dataDir)?.lock;
  ownedHere.delete(dataDir);
  const now = readLock(lockPath);
  if (mine && typeof now === 'object' && now.pid === process.pid && now.startedAt === mine.startedAt) rmQuiet(lockPath);
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: LOOPBACK, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function rmQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

// One set of process hooks for all stores served here, so that a signal removes every lock exactly once.
let watching = false;
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function releaseAllLocks(): void {
  for (const [dataDir, { lockPath }] of [...ownedHere]) releaseLock(dataDir, lockPath);
}

function onSignal(signal: NodeJS.Signals): void {
  releaseAllLocks();
  // Listening to a signal cancels Node's default exit; restore it unless the application handles the signal itself.
  if (process.listenerCount(signal) === 1) {
    unwatchSignals();
    process.kill(process.pid, signal);
  }
}

function watchSignals(): void {
  if (watching) return;
  watching = true;
  process.on('exit', releaseAllLocks);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function unwatchSignals(): void {
  watching = false;
  process.removeListener('exit', releaseAllLocks);
  for (const s of SIGNALS) process.removeListener(s, onSignal);
}

function unwatchSignalsIfIdle(): void {
  if (ownedHere.size === 0) unwatchSignals();
}
