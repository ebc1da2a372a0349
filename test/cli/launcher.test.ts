// The `sensei` launcher (bin/sensei): a POSIX sh script that finds the package through symlinks, sets glibc's malloc
// tunables unless the caller set GLIBC_TUNABLES, and execs node on the compiled CLI with the arguments unchanged.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SENSEI_BIN, SENSEI_LAUNCHER } from '../fixtures/cli.js';
import { tempDir } from '../fixtures/databases.js';

const TUNABLES = 'glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072:glibc.malloc.arena_max=2';
const ROOT = dirname(dirname(SENSEI_LAUNCHER));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

describe('bin/sensei launcher', () => {
  const dir = tempDir('sensei-launcher-');
  afterAll(() => dir.remove());

  // Loaded into the node process the launcher starts (NODE_OPTIONS=--import), before the CLI: writes what that process
  // got (its arguments, GLIBC_TUNABLES, pid and parent pid, executable) to SENSEI_PROBE_OUT; with SENSEI_PROBE_HOLD it
  // then keeps the process alive until a signal ends it.
  const probe = join(dir.path, 'probe.mjs');
  writeFileSync(
    probe,
    `import { writeFileSync } from 'node:fs';
writeFileSync(process.env.SENSEI_PROBE_OUT, JSON.stringify({ argv: process.argv.slice(2), tunables: process.env.GLIBC_TUNABLES ?? null, pid: process.pid, ppid: process.ppid, execPath: process.execPath }));
if (process.env.SENSEI_PROBE_HOLD) await new Promise(() => setInterval(() => {}, 1000));
`,
  );
  let probes = 0;

  /** The environment of a user who has not set GLIBC_TUNABLES, plus `extra`. */
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = { ...process.env, SENSEI_HOME: join(dir.path, 'home'), SENSEI_STORE_URL: '', ...extra };
    if (!('GLIBC_TUNABLES' in extra)) delete e.GLIBC_TUNABLES;
    if (!('NODE_OPTIONS' in extra)) delete e.NODE_OPTIONS;
    return e;
  };

  const start = (command: string, args: string[], e: NodeJS.ProcessEnv, cwd = dir.path) => {
    const child = spawn(command, args, { env: e, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const done = new Promise<Run>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
    return { child, done };
  };
  const run = (command: string, args: string[], e: NodeJS.ProcessEnv = env(), cwd?: string): Promise<Run> => start(command, args, e, cwd).done;

  /** Run the launcher with the probe loaded; what the node process saw, and how the launcher ended. */
  const probed = async (args: string[], extra: Record<string, string> = {}) => {
    const out = join(dir.path, `probe-${++probes}.json`);
    const { child, done } = start(SENSEI_LAUNCHER, args, env({ NODE_OPTIONS: `--import ${pathToFileURL(probe).href}`, SENSEI_PROBE_OUT: out, ...extra }));
    const r = await done;
    expect(existsSync(out), r.stderr).toBe(true);
    return { run: r, launcherPid: child.pid, seen: JSON.parse(readFileSync(out, 'utf8')) as { argv: string[]; tunables: string | null; pid: number; ppid: number; execPath: string } };
  };

  it('prints the same help as node dist/cli/main.js, exit 0', async () => {
    const direct = await run(process.execPath, [SENSEI_BIN, '--help']);
    const launched = await run(SENSEI_LAUNCHER, ['--help']);
    expect(direct.code).toBe(0);
    expect(direct.stdout).toContain('Usage: sensei <command>');
    expect(launched).toEqual(direct);
  });

  it("passes a usage error's exit code (2) through, with the command named as typed", async () => {
    const odd = `fr "ob" 'n' $HOME \`id\` *`;
    const r = await run(SENSEI_LAUNCHER, [odd]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`unknown command '${odd}'`);
  });

  it('hands every argument to node unchanged: spaces, quotes, $, globs, an empty one, newlines', async () => {
    const args = ['--help', 'a b', `it's "quoted"`, '$HOME $(id) `id` ${x}', '', '*', '-n', '--', 'tab\there', 'new\nline', '\\'];
    const { run: r, seen } = await probed(args);
    expect(r.code).toBe(0);
    expect(seen.argv).toEqual(args);
  });

  it('starts node with the three malloc tunables when the caller set none', async () => {
    const { seen } = await probed(['--help']);
    expect(seen.tunables).toBe(TUNABLES);
    expect(seen.tunables!.split(':').sort()).toEqual(['glibc.malloc.arena_max=2', 'glibc.malloc.mmap_threshold=131072', 'glibc.malloc.trim_threshold=131072']);
  });

  it("leaves the caller's GLIBC_TUNABLES exactly as it is, an empty one too", async () => {
    expect((await probed(['--help'], { GLIBC_TUNABLES: 'glibc.malloc.arena_max=4' })).seen.tunables).toBe('glibc.malloc.arena_max=4');
    expect((await probed(['--help'], { GLIBC_TUNABLES: '' })).seen.tunables).toBe('');
  });

  it('becomes the node process (exec): same pid, the caller its parent, signals reach node', async () => {
    const { run: r, launcherPid, seen } = await probed(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: `${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}\n` });
    expect(seen.pid).toBe(launcherPid);
    expect(seen.ppid).toBe(process.pid);

    // A process that stays up until a signal: SIGTERM to the launcher's pid ends node itself, and the caller sees the signal.
    const out = join(dir.path, 'probe-hold.json');
    const { child, done } = start(SENSEI_LAUNCHER, ['--help'], env({ NODE_OPTIONS: `--import ${pathToFileURL(probe).href}`, SENSEI_PROBE_OUT: out, SENSEI_PROBE_HOLD: '1' }));
    for (let i = 0; i < 200 && !existsSync(out); i++) await new Promise((res) => setTimeout(res, 25));
    expect(existsSync(out)).toBe(true);
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline.slice(0, 3)).toEqual([expect.stringMatching(/node$/), join(ROOT, 'dist/cli/main.js'), '--help']);
    child.kill('SIGTERM');
    expect(await done).toMatchObject({ code: null, signal: 'SIGTERM' });
  });

  it('runs SENSEI_NODE when set, and exits 127 naming it when that is not there', async () => {
    expect((await probed(['--help'], { SENSEI_NODE: process.execPath })).seen.execPath).toBe(process.execPath);
    const missing = join(dir.path, 'no-such-node');
    const r = await run(SENSEI_LAUNCHER, ['--help'], env({ SENSEI_NODE: missing }));
    expect(r.code).toBe(127);
    expect(r.stderr).toContain(missing);
  });

  it("finds dist through symlinks as npm links it (.bin → package dir that is itself a link), found on PATH or by path", async () => {
    const version = `${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}\n`;
    // node_modules/sensei → the package (npm link, or a workspace); node_modules/.bin/sensei → ../sensei/bin/sensei.
    const nm = join(dir.path, 'project', 'node_modules');
    mkdirSync(join(nm, '.bin'), { recursive: true });
    symlinkSync(relative(nm, ROOT), join(nm, 'sensei'));
    symlinkSync('../sensei/bin/sensei', join(nm, '.bin', 'sensei'));
    // A global bin dir with a link to that link, absolute.
    const globalBin = join(dir.path, 'global bin');
    mkdirSync(globalBin);
    symlinkSync(join(nm, '.bin', 'sensei'), join(globalBin, 'sensei'));
    const elsewhere = join(dir.path, 'elsewhere');
    mkdirSync(elsewhere);

    expect(await run(join(nm, '.bin', 'sensei'), ['--version'], env(), elsewhere)).toMatchObject({ code: 0, stdout: version });
    expect(await run('../project/node_modules/.bin/sensei', ['--version'], env(), elsewhere)).toMatchObject({ code: 0, stdout: version });
    expect(await run('sensei', ['--version'], env({ PATH: `${globalBin}:${process.env.PATH}` }), elsewhere)).toMatchObject({ code: 0, stdout: version });
  });

  it('says which file is missing and what to do when the package is not built', async () => {
    // A copy of the launcher in a package without dist/.
    const pkg = join(dir.path, 'unbuilt');
    mkdirSync(join(pkg, 'bin'), { recursive: true });
    copyFileSync(SENSEI_LAUNCHER, join(pkg, 'bin', 'sensei'));
    const r = await run('sh', [join(pkg, 'bin', 'sensei'), '--help']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`sensei: ${join(pkg, 'dist/cli/main.js')} is missing: run 'npm run build' in ${pkg}\n`);
  });
});
