// `npm run bench -- --scale N`: the MySQL employees sample ×N in MariaDB, migrated into a fresh PostgreSQL database by
// Sensei (full pipeline: validation, checkpoints, hashing, verification, certificate) and, when installed, by pgloader.
// Memory: the bench process runs Sensei in-process with the heap setting of the `sensei` command (cli/heap-growth.ts).
// Its embedded store is created beforehand in a separate process, as the first `sensei` command in a home does
// (`--fresh-store`: inside the timed run instead); that process's figures are printed on their own line, and the run
// opens the existing store as every later run does.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { parseConfig } from '../tools/ingest/load-config.js';
import { createRuntime } from '../graph/runtime.js';
import { HEAP_GROWING_PERCENT, limitHeapGrowth } from '../cli/heap-growth.js';
import { BENCH_TABLES as TABLES, employeesDatabase, MYSQL, withDb } from './employees-db.js';

limitHeapGrowth();

const { values } = parseArgs({
  options: { scale: { type: 'string', default: '30' }, 'batch-size': { type: 'string', default: '10000' }, concurrency: { type: 'string', default: '2' }, 'skip-pgloader': { type: 'boolean' }, profile: { type: 'boolean' }, 'profile-stage': { type: 'string' }, 'fresh-store': { type: 'boolean' } },
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
 * `sensei` command in a new home does. Its peak is that of the process and its children (the initdb child process),
 * from /usr/bin/time; null without it.
 */
function createStoreBeforehand(home: string): string {
  const storeModule = fileURLToPath(new URL('../tools/store/sensei-store.ts', import.meta.url));
  const script = `const { openStore } = await import(${JSON.stringify(storeModule)}); const s = await openStore({ home: process.argv[1] }); await s.close();`;
  const argv = [process.execPath, '--import', 'tsx', '--input-type=module', '-e', script, home];
  const time = spawnSync('/usr/bin/time', ['-f', '%M', 'true']).status === 0;
  const t0 = Date.now();
  const r = time ? spawnSync('/usr/bin/time', ['-f', 'PEAK_KB=%M', ...argv], { encoding: 'utf8' }) : spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  const seconds = (Date.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`creating the bench store failed: ${r.stderr.slice(-2000)}`);
  const kb = /PEAK_KB=(\d+)/.exec(r.stderr)?.[1];
  return `store created before the run in a separate process (a first use of the home; not in the figures above): ${seconds.toFixed(1)} s, peak ${kb ? `${fmt(Number(kb) / 1024)} MB` : 'unknown (no /usr/bin/time)'}`;
}

async function runSensei(source: string): Promise<{ rows: number; seconds: number; executeSeconds: number; executeCpu: number; peakMb: number; status: string; stages: string; store: string }> {
  const targetDb = `sensei_bench_tgt_${process.pid}`;
  const target = await freshPg(targetDb);
  const home = mkdtempSync(join(tmpdir(), 'sensei-bench-'));
  const store = values['fresh-store'] ? 'store created inside the run (--fresh-store): its creation is in the figures above' : createStoreBeforehand(home);
  const stages = new Map<string, number>();
  const cpuAt = new Map<string, number>();
  // Peak RSS per stage, sampled every 50 ms (the process maximum alone does not say which stage holds the memory), with
  // the JavaScript heap and the external memory (WebAssembly: PGlite, libpg-query; buffers) at that moment.
  const peaks = new Map<string, number>();
  let current = 'start';
  const heaps = new Map<string, string>();
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > (peaks.get(current) ?? 0)) {
      peaks.set(current, m.rss);
      heaps.set(current, `heap ${Math.round(m.heapTotal / 2 ** 20)}, external ${Math.round(m.external / 2 ** 20)}`);
    }
  }, 50);
  const prof = await profiler();
  const rt = await createRuntime({
    home,
    onStage: (_id, s) => {
      stages.set(s, Date.now());
      cpuAt.set(s, cpuSeconds());
      current = s;
      void prof.stage(s);
    },
  });
  try {
    const config = parseConfig({ source: { url: withDb(MYSQL, source) }, target: { url: target }, strategy: { batch_size: batchSize, concurrency: Number(values.concurrency) } }, 'bench');
    const t0 = Date.now();
    const r = await rt.start(config, process.cwd(), { preApproved: true });
    const t1 = Date.now();
    if (r.error) process.stderr.write(`sensei run failed: ${r.error.message}\n`);
    const rows = r.tables.reduce((a, t) => a + t.rows_written, 0);
    const executeSeconds = ((stages.get('verify') ?? t1) - (stages.get('execute') ?? t0)) / 1000;
    const executeCpu = (cpuAt.get('verify') ?? cpuSeconds()) - (cpuAt.get('execute') ?? 0);
    const tables = r.tables.map((t) => `${t.source} ${t.seconds.toFixed(1)}s`).join(', ');
    const marks = [...stages.entries(), ['end', t1] as const];
    const mb = (s: string): string => `${Math.round((peaks.get(s) ?? 0) / 2 ** 20)} MB [${heaps.get(s) ?? '-'}]`;
    const perStage = `runtime up ${mb('start')}, ` + marks.slice(0, -1).map(([s, t], i) => `${s} ${((marks[i + 1]![1] - t) / 1000).toFixed(1)}s/${mb(s)}`).join(', ');
    return { rows, seconds: (t1 - t0) / 1000, executeSeconds, executeCpu, peakMb: process.resourceUsage().maxRSS / 1024, status: r.status, stages: `${perStage}; load per table: ${tables}`, store };
  } finally {
    clearInterval(sampler);
    await prof.stop();
    await rt.close();
    rmSync(home, { recursive: true, force: true });
    await dropPg(targetDb);
  }
}

async function runPgloader(source: string): Promise<{ rows: number; seconds: number; cpu: number; peakMb: number } | null> {
  const which = spawnSync('which', ['pgloader']);
  if (which.status !== 0 || values['skip-pgloader']) return null;
  const targetDb = `sensei_bench_pgl_${process.pid}`;
  const target = await freshPg(targetDb);
  try {
    const t0 = Date.now();
    const r = spawnSync('/usr/bin/time', ['-f', 'PEAK_KB=%M CPU=%U+%S', 'pgloader', '--quiet', withDb(MYSQL, source).replace(/^mysql:/, 'mysql:'), target.replace(/^postgres:/, 'postgresql:')], { encoding: 'utf8' });
    const seconds = (Date.now() - t0) / 1000;
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
    return { rows, seconds, cpu: cpu ? Number(cpu[1]) + Number(cpu[2]) : Number.NaN, peakMb: peakKb / 1024 };
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
  `           execute stage (read, transform, validate, write, source hash): ${sensei.executeSeconds.toFixed(2)} s = ${fmt(sensei.rows / sensei.executeSeconds)} rows/s, Sensei process CPU ${sensei.executeCpu.toFixed(2)} s`,
  `           stages (seconds/peak RSS [MB at that peak]): ${sensei.stages}`,
  `           ${sensei.store}; heap growth capped at +${HEAP_GROWING_PERCENT}% as in the sensei command`,
];
const pgl = await runPgloader(src.name);
if (pgl) {
  out.push(line('pgloader', pgl.rows, pgl.seconds, pgl.peakMb, `  (pgloader process CPU ${pgl.cpu.toFixed(2)} s)`));
  out.push(`ratio sensei/pgloader throughput: whole run ${(sensei.rows / sensei.seconds / (pgl.rows / pgl.seconds)).toFixed(2)}×, execute stage ${(sensei.rows / sensei.executeSeconds / (pgl.rows / pgl.seconds)).toFixed(2)}×`);
} else out.push('pgloader: not installed (apt-get install pgloader) — skipped');
process.stdout.write(`${out.join('\n')}\n`);
