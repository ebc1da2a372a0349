// `npm run bench:store-start`: what one short `sensei` process pays for the embedded store. Each sample is a fresh
// Node process that loads the built store module, opens the store, closes it and exits (as `sensei status` does), once
// on an empty home (unpacked from the build's store template), BENCH_RUNS times on the same, existing home, and once on
// another empty home without the template (initdb); with Node's default WebAssembly tiering and with --liftoff-only (the
// flag test/fixtures/cli.ts gives the CLI processes of the tests). Prints milliseconds and peak RSS: of the store
// process itself, and of it with its child processes (without a template a new data dir is created by a short child
// process, see tools/store/embedded-store-server.ts; measured with /usr/bin/time when installed).
// Needs `npm run build` first. Figures depend on the machine's load: the load average is printed with them.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const STORE_MODULE = fileURLToPath(new URL('../dist/tools/store/sensei-store.js', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** One store user in its own process: the times it reports, and when its process was gone. */
interface Sample {
  /** Module graph loaded (ms since the process started). */
  loaded: number;
  /** openStore returned. */
  opened: number;
  /** close() returned. */
  closed: number;
  /** CPU of the process up to close() (user + system), ms; the compile jobs Node waits for at exit are not in it. */
  cpu: number;
  /** From spawn until the process had exited, as seen by the parent. */
  exited: number;
  /** Peak RSS of the store process alone, MB. */
  peakMb: number;
  /** Peak RSS of the store process or any of its children (the largest), MB; null without /usr/bin/time. */
  treePeakMb: number | null;
}

const TIME = spawnSync('/usr/bin/time', ['-f', '%M', 'true']).status === 0 ? '/usr/bin/time' : null;

const CHILD = `
const t0 = performance.now();
const { openStore } = await import(${JSON.stringify(pathToFileURL(STORE_MODULE).href)});
const loaded = performance.now();
const store = await openStore({ home: process.argv[1], ...(process.argv[2] === 'initdb' ? { template: null } : {}) });
const opened = performance.now();
await store.close();
const closed = performance.now();
const c = process.cpuUsage();
process.stdout.write(JSON.stringify({ loaded, opened, closed, cpu: (c.user + c.system) / 1000, peakMb: process.resourceUsage().maxRSS / 1024 }));
`;

function sample(flags: string[], home: string, initdb = false): Promise<Sample> {
  const start = performance.now();
  const argv = [process.execPath, ...flags, '--input-type=module', '-e', CHILD, home, ...(initdb ? ['initdb'] : [])];
  const [cmd, ...args] = TIME ? [TIME, '-f', 'TREE_PEAK_KB=%M', ...argv] : argv;
  const child = spawn(cmd!, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SENSEI_STORE_URL: '' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`store process exited with ${code}: ${err}`));
      const tree = /TREE_PEAK_KB=(\d+)/.exec(err)?.[1];
      resolve({ ...(JSON.parse(out) as Omit<Sample, 'exited' | 'treePeakMb'>), exited: performance.now() - start, treePeakMb: tree ? Number(tree) / 1024 : null });
    });
  });
}

const fmt = (n: number): string => n.toFixed(0).padStart(7);

function row(label: string, s: Sample): void {
  console.log(
    `${label.padEnd(38)}${fmt(s.loaded)}${fmt(s.opened - s.loaded)}${fmt(s.closed - s.opened)}${fmt(s.exited - s.closed)}${fmt(s.exited)}${fmt(s.cpu)}${fmt(s.peakMb)}${s.treePeakMb === null ? '      -' : fmt(s.treePeakMb)}`,
  );
}

async function main(): Promise<void> {
  if (!existsSync(STORE_MODULE)) throw new Error(`${STORE_MODULE} is missing: run npm run build first`);
  const dir = mkdtempSync(join(tmpdir(), 'sensei-bench-store-'));
  try {
    console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log(`${'process (ms)'.padEnd(38)}${'load'.padStart(7)}${'open'.padStart(7)}${'close'.padStart(7)}${'exit'.padStart(7)}${'total'.padStart(7)}${'cpu'.padStart(7)}${'RSS MB'.padStart(7)}${'+child'.padStart(7)}`);
    for (const [name, flags] of [['default tiering', []], ['--liftoff-only', ['--liftoff-only']]] as const) {
      const home = join(dir, name.replace(/\W+/g, '-'));
      row(`${name}, empty home (template)`, await sample([...flags], home));
      for (let i = 1; i <= RUNS; i++) row(`${name}, existing store #${i}`, await sample([...flags], home));
      row(`${name}, empty home (initdb)`, await sample([...flags], `${home}-initdb`, true));
    }
    // What test/fixtures/store-template.ts does instead of initdb for a new home.
    const source = join(dir, 'default-tiering', 'store');
    const t = performance.now();
    cpSync(source, join(dir, 'copy', 'store'), { recursive: true });
    console.log(`copy of an existing store data dir: ${(performance.now() - t).toFixed(0)} ms`);
    console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
