// `npm run bench -- --scale N`: the MySQL employees sample ×N in MariaDB, migrated into a fresh PostgreSQL database by
// Sensei (full pipeline: validation, checkpoints, hashing, verification, certificate) and, when installed, by pgloader.
// Sensei runs as the `sensei migrate` command (the compiled code; the script builds first) in a child process, started
// as a user starts it, through the bin/sensei launcher with its malloc tunables (`--node-direct`: node
// dist/cli/main.js, without them, to compare), whose peak resident memory per stage is the kernel's high-water mark,
// reset at each stage; `--profile` runs it in this
// process instead (with the command's V8 settings, cli/process-flags.ts) to write a CPU profile of one stage. Its embedded store is created beforehand in a separate process, as the first `sensei` command in a home does
// (`--fresh-store`: inside the timed run instead); that process's figures are printed on their own line, and the run
// opens the existing store as every later run does.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { parseConfig } from '../tools/ingest/load-config.js';
import { createRuntime } from '../graph/runtime.js';
import { applyProcessFlags, HEAP_GROWING_PERCENT, WASM_FLAGS } from '../cli/process-flags.js';
import { BENCH_TABLES as TABLES, employeesDatabase, MYSQL, withDb } from './employees-db.js';
import { peakRssMb, resetPeakRss } from './peak-rss.js';

const { values } = parseArgs({
  options: { scale: { type: 'string', default: '30' }, 'batch-size': { type: 'string', default: '10000' }, concurrency: { type: 'string', default: '2' }, 'skip-pgloader': { type: 'boolean' }, profile: { type: 'boolean' }, 'profile-stage': { type: 'string' }, 'fresh-store': { type: 'boolean' }, 'node-direct': { type: 'boolean' } },
});
const scale = Number(values.scale);
const batchSize = Number(values['batch-size']);
const PG = process.env.SENSEI_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function freshPg(name: string): Promise<string> {
  const c = new pg.Client({ connectionString: PG });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await c.query(`CREATE DATABASE "${name}"`);
  } finally {
    await c.end();
  }
  return withDb(PG, name);
}

async function dropPg(name: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).finally(() => c.end());
}

/**
 * `--profile`: a CPU profile of the execute stage alone (inspector), written to execute-<pid>.cpuprofile;
 * `--profile-stage <stage>` profiles that stage instead (e.g. capture), written to <stage>-<pid>.cpuprofile.
 */
async function profiler(): Promise<{ stage: (s: string) => Promise<void>; stop: () => Promise<void> }> {
  const profiled = values['profile-stage'] ?? (values.profile ? 'execute' : null);
  if (!profiled) return { stage: async () => undefined, stop: async () => undefined };
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  let running = false;
  const stop = async (): Promise<void> => {
    if (!running) return;
    running = false;
    const { profile } = await session.post('Profiler.stop');
    const file = `${profiled}-${process.pid}.cpuprofile`;
    writeFileSync(file, JSON.stringify(profile));
    process.stderr.write(`CPU profile of the ${profiled} stage: ${file}\n`);
  };
  return {
    stage: async (s) => {
      if (s === profiled) {
        running = true;
        await session.post('Profiler.start');
      } else await stop();
    },
    stop,
  };
}

/** CPU seconds (user + system) of this process so far. */
const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/**
 * Create the embedded store of `home` in a separate process (Node, the store module, open and close), as the first
 * `sensei` command in a new home does (unpacked from the build's store template, or by an initdb child process when
 * that is unusable). Its peak is that of the process and its children,
 * from /usr/bin/time; null without it.
 */
function createStoreBeforehand(home: string): string {
  const storeModule = fileURLToPath(new URL('../dist/tools/store/sensei-store.js', import.meta.url));
  const script = `const { openStore } = await import(${JSON.stringify(storeModule)}); const s = await openStore({ home: process.argv[1] }); await s.close();`;
  const argv = [process.execPath, '--input-type=module', '-e', script, home];
  const time = spawnSync('/usr/bin/time', ['-f', '%M', 'true']).status === 0;
  const t0 = Date.now();
  const r = time ? spawnSync('/usr/bin/time', ['-f', 'PEAK_KB=%M', ...argv], { encoding: 'utf8' }) : spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  const seconds = (Date.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`creating the bench store failed: ${r.stderr.slice(-2000)}`);
  const kb = /PEAK_KB=(\d+)/.exec(r.stderr)?.[1];
  return `store created before the run in a separate process (a first use of the home; not in the figures above): ${seconds.toFixed(1)} s, peak ${kb ? `${fmt(Number(kb) / 1024)} MB` : 'unknown (no /usr/bin/time)'}`;
}

interface SenseiFigures {
  rows: number;
  seconds: number;
  executeSeconds: number;
  executeCpu: number;
  /** CPU seconds of the database servers during the execute stage. */
  executeServers: string;
  peakMb: number;
  status: string;
  stages: string;
  store: string;
}

/** Sensei's figures: the `sensei migrate` command in a child process (default), or in this process for a CPU profile. */
async function runSensei(source: string): Promise<SenseiFigures> {
  const targetDb = `sensei_bench_tgt_${process.pid}`;
  const target = await freshPg(targetDb);
  const home = mkdtempSync(join(tmpdir(), 'sensei-bench-'));
  try {
    const store = values['fresh-store'] ? 'store created inside the run (--fresh-store): its creation is in the figures above' : createStoreBeforehand(home);
    const config = { source: { url: withDb(MYSQL, source) }, target: { url: target }, strategy: { batch_size: batchSize, concurrency: Number(values.concurrency) } };
    const profiled = values['profile-stage'] ?? (values.profile ? 'execute' : null);
    return { ...(profiled ? await runInProcess(home, config) : await runCommand(home, config)), store };
  } finally {
    rmSync(home, { recursive: true, force: true });
    await dropPg(targetDb);
  }
}

/** CPU seconds (user + system) of process `pid` so far, from /proc; with `reaped`, also those of its exited children. */
function procCpu(pid: number, reaped = false): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const own = Number(fields[11]) + Number(fields[12]);
  return (reaped ? own + Number(fields[13]) + Number(fields[14]) : own) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

/**
 * CPU seconds used so far by the database servers on this machine: MariaDB (`mariadbd`/`mysqld`) and PostgreSQL (every
 * `postgres` process, and the backends that exited, whose seconds the postmaster has reaped).
 */
function serverCpu(): { mariadb: number; postgres: number } {
  const out = { mariadb: 0, postgres: 0 };
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const kind = comm === 'mariadbd' || comm === 'mysqld' ? 'mariadb' : comm === 'postgres' ? 'postgres' : null;
      // With the children it has reaped: PostgreSQL's postmaster collects the seconds of every backend that exited.
      if (kind) out[kind] += procCpu(Number(d), true);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
const cpuDelta = (a: ReturnType<typeof serverCpu>, b: ReturnType<typeof serverCpu>): string => `MariaDB ${(b.mariadb - a.mariadb).toFixed(2)} s, PostgreSQL ${(b.postgres - a.postgres).toFixed(2)} s`;

/** Peak RSS of `pid` since its last reset (MB), and reset it so the next stage has its own. */
function takePeak(pid: number): number {
  const mb = peakRssMb(pid);
  resetPeakRss(pid);
  return mb;
}

/**
 * How the command is started: bin/sensei, the launcher npm installs as `sensei`, which sets glibc's malloc tunables
 * (unless GLIBC_TUNABLES is set here) and execs this process's node, so the child's pid is node's and its /proc figures
 * are Sensei's; `--node-direct`: node dist/cli/main.js, as before the launcher, for an A/B of the tunables.
 */
function senseiCommand(args: string[]): { argv: string[]; env: NodeJS.ProcessEnv; label: string } {
  const tunables = process.env.GLIBC_TUNABLES;
  if (values['node-direct']) {
    const main = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
    return { argv: [process.execPath, main, ...args], env: {}, label: `node dist/cli/main.js directly (--node-direct; GLIBC_TUNABLES ${tunables === undefined ? 'unset' : `'${tunables}'`})` };
  }
  const launcher = fileURLToPath(new URL('../bin/sensei', import.meta.url));
  return { argv: [launcher, ...args], env: { SENSEI_NODE: process.execPath }, label: `through bin/sensei (GLIBC_TUNABLES ${tunables === undefined ? "the launcher's" : `'${tunables}' as set`})` };
}

/**
 * The `sensei migrate --yes --json` command, as a user runs it (the compiled code: `npm run bench` builds first), in a
 * child process (senseiCommand). The process's peak RSS is the kernel's high-water mark; each stage's peak too (reset at every stage
 * line the command prints), with the CPU seconds at each stage's start.
 */
async function runCommand(home: string, config: Record<string, unknown>): Promise<Omit<SenseiFigures, 'store'>> {
  const file = join(home, 'bench.yaml');
  writeFileSync(file, JSON.stringify(config)); // JSON is YAML
  const command = senseiCommand(['migrate', '-c', file, '--yes', '--json']);
  const t0 = Date.now();
  const child = spawn(command.argv[0]!, command.argv.slice(1), { env: { ...process.env, ...command.env, SENSEI_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid!;
  const marks: Array<{ stage: string; at: number; cpu: number; servers: ReturnType<typeof serverCpu> }> = [{ stage: 'runtime up', at: t0, cpu: 0, servers: serverCpu() }];
  const peaks: number[] = [];
  let lastPeak = 0;
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    const text = partial + d.toString();
    const lines = text.split('\n');
    partial = lines.pop()!;
    for (const l of lines) {
      const m = /^\[[^\]]+\] (\w+)$/.exec(l);
      if (m) {
        peaks.push(Math.max(lastPeak, takePeak(pid)));
        lastPeak = 0;
        marks.push({ stage: m[1]!, at: Date.now(), cpu: procCpu(pid), servers: serverCpu() });
      } else stderr += `${l}\n`;
    }
  });
  let lastCpu = 0;
  // The high-water marks of the stage running at the end: read just before the process is gone.
  const poll = setInterval(() => {
    try {
      lastPeak = Math.max(lastPeak, peakRssMb(pid));
      lastCpu = procCpu(pid);
    } catch {
      // exited
    }
  }, 20);
  const code: number = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  clearInterval(poll);
  const t1 = Date.now();
  peaks.push(lastPeak);
  if (code !== 0) process.stderr.write(`sensei migrate exited with ${code}: ${stderr.slice(-2000)}\n`);
  const r = JSON.parse(stdout || '{}') as { status?: string; tables?: Array<{ source: string; rows_written: number }> };
  const rows = (r.tables ?? []).reduce((a, t) => a + t.rows_written, 0);
  const at = (s: string, end: number) => marks.find((m) => m.stage === s)?.at ?? end;
  const cpuAt = (s: string) => marks.find((m) => m.stage === s)?.cpu ?? lastCpu;
  const overall = Math.max(...peaks);
  const endServers = serverCpu();
  // Per stage: seconds, peak RSS, and CPU seconds of Sensei / MariaDB / PostgreSQL.
  const perStage = marks
    .map((m, i) => {
      const next = marks[i + 1];
      const servers = next?.servers ?? endServers;
      const cpu = `${((next?.cpu ?? lastCpu) - m.cpu).toFixed(1)}/${(servers.mariadb - m.servers.mariadb).toFixed(1)}/${(servers.postgres - m.servers.postgres).toFixed(1)}`;
      return `${m.stage} ${(((next?.at ?? t1) - m.at) / 1000).toFixed(1)}s/${Math.round(peaks[i] ?? 0)} MB/CPU ${cpu}`;
    })
    .join(', ');
  return {
    rows,
    seconds: (t1 - t0) / 1000,
    executeSeconds: (at('verify', t1) - at('execute', t0)) / 1000,
    executeCpu: cpuAt('verify') - cpuAt('execute'),
    executeServers: cpuDelta(marks.find((m) => m.stage === 'execute')?.servers ?? marks[0]!.servers, marks.find((m) => m.stage === 'verify')?.servers ?? serverCpu()),
    peakMb: overall,
    status: `${r.status ?? 'failed'}; exit ${code}; process CPU ${lastCpu.toFixed(1)} s`,
    stages: `${perStage} (the sensei command in a child process, ${command.label}; seconds from its start, peak RSS, CPU seconds of Sensei/MariaDB/PostgreSQL)`,
  };
}

/** The run in this process (under tsx, so its memory figures include tsx's), for a CPU profile of one stage. */
async function runInProcess(home: string, raw: Record<string, unknown>): Promise<Omit<SenseiFigures, 'store'>> {
  applyProcessFlags();
  const stages = new Map<string, number>();
  const cpuAt = new Map<string, number>();
  const servers = new Map<string, ReturnType<typeof serverCpu>>();
  const prof = await profiler();
  const rt = await createRuntime({
    home,
    onStage: (_id, s) => {
      stages.set(s, Date.now());
      cpuAt.set(s, cpuSeconds());
      servers.set(s, serverCpu());
      void prof.stage(s);
    },
  });
  try {
    const t0 = Date.now();
    const r = await rt.start(parseConfig(raw, 'bench'), process.cwd(), { preApproved: true });
    const t1 = Date.now();
    if (r.error) process.stderr.write(`sensei run failed: ${r.error.message}\n`);
    const marks = [...stages.entries(), ['end', t1] as const];
    return {
      rows: r.tables.reduce((a, t) => a + t.rows_written, 0),
      seconds: (t1 - t0) / 1000,
      executeSeconds: ((stages.get('verify') ?? t1) - (stages.get('execute') ?? t0)) / 1000,
      executeCpu: (cpuAt.get('verify') ?? cpuSeconds()) - (cpuAt.get('execute') ?? 0),
      executeServers: cpuDelta(servers.get('execute') ?? serverCpu(), servers.get('verify') ?? serverCpu()),
      peakMb: process.resourceUsage().maxRSS / 1024,
      status: r.status,
      stages: `${marks.slice(0, -1).map(([s, t], i) => `${s} ${((marks[i + 1]![1] - t) / 1000).toFixed(1)}s`).join(', ')} (in this process, profiled: memory includes tsx)`,
    };
  } finally {
    await prof.stop();
    await rt.close();
  }
}

async function runPgloader(source: string): Promise<{ rows: number; seconds: number; cpu: number; servers: string; peakMb: number } | null> {
  const which = spawnSync('which', ['pgloader']);
  if (which.status !== 0 || values['skip-pgloader']) return null;
  const targetDb = `sensei_bench_pgl_${process.pid}`;
  const target = await freshPg(targetDb);
  try {
    const servers0 = serverCpu();
    const t0 = Date.now();
    const r = spawnSync('/usr/bin/time', ['-f', 'PEAK_KB=%M CPU=%U+%S', 'pgloader', '--quiet', withDb(MYSQL, source).replace(/^mysql:/, 'mysql:'), target.replace(/^postgres:/, 'postgresql:')], { encoding: 'utf8' });
    const seconds = (Date.now() - t0) / 1000;
    const servers = cpuDelta(servers0, serverCpu());
    if (r.status !== 0) process.stderr.write(`pgloader exited with ${r.status}: ${r.stderr.slice(-2000)}\n`);
    const peakKb = Number(/PEAK_KB=(\d+)/.exec(r.stderr)?.[1] ?? 0);
    const cpu = /CPU=([\d.]+)\+([\d.]+)/.exec(r.stderr);
    const c = new pg.Client({ connectionString: target });
    await c.connect();
    let rows = 0;
    try {
      for (const t of TABLES) {
        const res = await c.query(`SELECT count(*)::int AS n FROM "${source}"."${t}"`).catch(() => c.query(`SELECT count(*)::int AS n FROM "${t}"`));
        rows += Number(res.rows[0]?.n ?? 0);
      }
    } finally {
      await c.end();
    }
    return { rows, seconds, cpu: cpu ? Number(cpu[1]) + Number(cpu[2]) : Number.NaN, servers, peakMb: peakKb / 1024 };
  } finally {
    await dropPg(targetDb);
  }
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

const src = await employeesDatabase(scale);
process.stderr.write(`source: ${src.name}, ${fmt(src.rows)} rows; batch size ${batchSize}, concurrency ${values.concurrency}\n`);
const sensei = await runSensei(src.name);
const line = (name: string, rows: number, s: number, mb: number, extra = ''): string =>
  `${name.padEnd(10)} ${fmt(rows).padStart(10)} rows  ${s.toFixed(1).padStart(7)} s  ${fmt(rows / s).padStart(9)} rows/s  peak ${fmt(mb)} MB${extra}`;
const out = [
  line('sensei', sensei.rows, sensei.seconds, sensei.peakMb, `  (status ${sensei.status})`),
  `           execute stage (read, transform, validate, write, source hash): ${sensei.executeSeconds.toFixed(2)} s = ${fmt(sensei.rows / sensei.executeSeconds)} rows/s, CPU: Sensei ${sensei.executeCpu.toFixed(2)} s, ${sensei.executeServers}`,
  `           stages (seconds/peak RSS): ${sensei.stages}`,
  `           ${sensei.store}; the sensei command caps heap growth at +${HEAP_GROWING_PERCENT}% and compiles WebAssembly with ${WASM_FLAGS}`,
];
const pgl = await runPgloader(src.name);
if (pgl) {
  out.push(line('pgloader', pgl.rows, pgl.seconds, pgl.peakMb, `  (CPU: pgloader ${pgl.cpu.toFixed(2)} s, ${pgl.servers})`));
  out.push(`ratio sensei/pgloader throughput: whole run ${(sensei.rows / sensei.seconds / (pgl.rows / pgl.seconds)).toFixed(2)}×, execute stage ${(sensei.rows / sensei.executeSeconds / (pgl.rows / pgl.seconds)).toFixed(2)}×`);
} else out.push(values['skip-pgloader'] ? 'pgloader: not run (--skip-pgloader)' : 'pgloader: not installed (apt-get install pgloader) — skipped');
process.stdout.write(`${out.join('\n')}\n`);
