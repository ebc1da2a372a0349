// `npm run bench:cli-start`: what a short `sensei` process costs by command, as the CLI tests start it (built CLI,
// node --liftoff-only, a home with an existing store): --help, certificate verify (no store), commands that open only
// the store (status, errors list) and one that builds the runtime with its graph (waiver list). Each sample is a fresh
// process; prints the median CPU seconds (user + system, from /usr/bin/time, with any child processes) and wall seconds
// of BENCH_RUNS samples (default 5); `--help` also through the bin/sensei launcher (what a user's `sensei` adds: sh,
// and glibc's malloc tunables; no --liftoff-only, which a node option cannot pass through it). Needs `npm run build` first. CPU is the figure to compare on a shared machine;
// the load average is printed with it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SENSEI_BIN, SENSEI_LAUNCHER, SENSEI_NODE_OPTIONS } from '../test/fixtures/cli.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TIME = '/usr/bin/time';

interface Sample {
  cpu: number;
  wall: number;
  code: number | null;
}

/** The command as the tests start it (node with their options), or through the launcher (`launcher`). */
function sample(home: string, args: string[], launcher = false): Sample {
  const out = join(home, '..', 'time.txt');
  const command = launcher ? [SENSEI_LAUNCHER] : [process.execPath, ...SENSEI_NODE_OPTIONS, SENSEI_BIN];
  const r = spawnSync(TIME, ['-f', '%U %S %e', '-o', out, ...command, ...args], {
    env: { ...process.env, SENSEI_STORE_URL: '', SENSEI_HOME: home, SENSEI_NODE: process.execPath },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const [user, sys, wall] = readFileSync(out, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  return { cpu: user! + sys!, wall: wall!, code: r.status };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function main(): void {
  if (!existsSync(SENSEI_BIN)) throw new Error(`${SENSEI_BIN} is missing: run npm run build first`);
  if (spawnSync(TIME, ['-f', '%U', 'true']).status !== 0) throw new Error(`${TIME} is needed to read a process's CPU time (apt-get install time)`);
  const dir = mkdtempSync(join(tmpdir(), 'sensei-bench-cli-'));
  try {
    const home = join(dir, 'home');
    const notACertificate = join(dir, 'not-a-certificate.json');
    writeFileSync(notACertificate, '{"hello":1}\n');
    // The first store user creates the store (initdb): not a sample.
    sample(home, ['status', 'run_none']);
    const commands: Array<[string, string[], boolean?]> = [
      ['--help', ['--help']],
      ['--help (bin/sensei)', ['--help'], true],
      ['certificate verify FILE', ['certificate', 'verify', notACertificate]],
      ['status RUN_ID (store)', ['status', 'run_none']],
      ['errors list RUN_ID (store)', ['errors', 'list', 'run_none', '--json']],
      ['waiver list RUN_ID (runtime)', ['waiver', 'list', 'run_none', '--json']],
    ];
    console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${RUNS} samples a command, medians`);
    console.log(`${'command'.padEnd(32)}${'cpu s'.padStart(8)}${'wall s'.padStart(8)}${'exit'.padStart(6)}`);
    for (const [label, args, launcher] of commands) {
      const samples = Array.from({ length: RUNS }, () => sample(home, args, launcher));
      console.log(`${label.padEnd(32)}${median(samples.map((s) => s.cpu)).toFixed(2).padStart(8)}${median(samples.map((s) => s.wall)).toFixed(2).padStart(8)}${String(samples[0]!.code).padStart(6)}`);
    }
    console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
