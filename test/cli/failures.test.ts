// What the CLI does with wrong input: clear messages naming what and where, meaningful exit codes, nothing written.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { runCli, SENSEI_BIN, SENSEI_NODE_OPTIONS } from '../fixtures/cli.js';
import { createPgDatabase, pgExec, pgQuery, tempDir, type TempDatabase } from '../fixtures/databases.js';
import { loadLibrarySqlite } from '../fixtures/library-source.js';
import { homeWithStore } from '../fixtures/store-template.js';

describe('CLI failure paths', () => {
  const dir = tempDir('sensei-fail-');
  const home = homeWithStore(join(dir.path, 'home'));
  let target: TempDatabase;

  beforeAll(async () => {
    loadLibrarySqlite(join(dir.path, 'library.db'));
    target = await createPgDatabase();
  });
  afterAll(async () => {
    await target?.drop();
    dir.remove();
  });

  it('has --help for every command, and exit code 2 for an unknown one', async () => {
    for (const cmd of ['demo', 'migrate', 'approve', 'status', 'errors', 'certificate']) {
      const r = await runCli([cmd, '--help'], { home });
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toContain(`Usage: sensei ${cmd}`);
    }
    const main = await runCli(['--help'], { home });
    expect(main.stdout).toMatch(/Exit codes/);
    const unknown = await runCli(['frobnicate'], { home });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
  });

  it('drops its output quietly when the reader closes the pipe early (| head), keeping its own exit code', async () => {
    // The read end is closed before the command writes, as `head` closes it after the lines it wanted.
    const closedReader = async (args: string[]): Promise<{ code: number; stderr: string }> => {
      const child = spawn(process.execPath, [...SENSEI_NODE_OPTIONS, SENSEI_BIN, ...args], {
        env: { ...process.env, SENSEI_STORE_URL: '', SENSEI_HOME: home },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
      return { code, stderr };
    };
    expect(await closedReader(['--help'])).toEqual({ code: 0, stderr: '' });
    // A command that fails still says why on stderr and exits with its code; --json writes its error to the closed pipe.
    const failed = await closedReader(['certificate', 'verify', join(dir.path, 'missing.json'), '--json']);
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('missing.json');
    expect(failed.stderr).not.toContain('EPIPE');
  });

  it('exit code 2 for a missing or invalid configuration, naming the field', async () => {
    const noConfig = await runCli(['migrate'], { home });
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toMatch(/-c sensei\.yaml/);
    writeFileSync(join(dir.path, 'bad.yaml'), 'source:\n  url: sqlite:library.db\ntarget:\n  url: pglite://memory\nstrategy:\n  batch_size: lots\n');
    const bad = await runCli(['migrate', '-c', join(dir.path, 'bad.yaml')], { home });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/strategy\.batch_size/);
  });

  it('refuses an inline password without printing it', async () => {
    writeFileSync(join(dir.path, 'secret.yaml'), `source:\n  url: sqlite:library.db\ntarget:\n  url: postgres://postgres:Sup3rSecret@127.0.0.1:5432/x\n`);
    const r = await runCli(['migrate', '-c', join(dir.path, 'secret.yaml'), '--json'], { home });
    expect(r.code).toBe(2);
    expect(r.json.error.message).toMatch(/target\.url contains an inline password/);
    expect(r.stdout + r.stderr).not.toContain('Sup3rSecret');
  });

  it('an unreachable source fails with exit code 1 naming the host, and the run is recorded as failed', async () => {
    writeFileSync(join(dir.path, 'down.yaml'), `source:\n  url: postgres://postgres@127.0.0.1:1/nowhere\ntarget:\n  url: ${target.url}\n`);
    const r = await runCli(['migrate', '-c', join(dir.path, 'down.yaml'), '--json'], { home });
    expect(r.code).toBe(1);
    expect(r.json.status).toBe('failed');
    expect(r.json.error.message).toMatch(/127\.0\.0\.1:1/);
    const status = await runCli(['status', r.json.run_id, '--json'], { home });
    expect(status.json.status).toBe('failed');
  });

  it('refuses to load into a target table that already holds rows, and leaves it as it was', async () => {
    await pgExec(target.url, 'CREATE TABLE authors (id bigint PRIMARY KEY, name varchar(80) NOT NULL, country varchar(2), born date); INSERT INTO authors VALUES (1, \'already here\', NULL, NULL);');
    writeFileSync(join(dir.path, 'full.yaml'), `source:\n  url: sqlite:library.db\ntarget:\n  url: ${target.url}\n`);
    const r = await runCli(['migrate', '-c', join(dir.path, 'full.yaml'), '--yes', '--json'], { home });
    expect(r.code).toBe(1);
    expect(r.json.error.message).toMatch(/target table authors already holds rows/);
    expect(await pgQuery(target.url, 'SELECT id::int AS id, name FROM authors')).toEqual([{ id: 1, name: 'already here' }]);
  });

  it('a certificate file that is not a certificate is reported, not thrown', async () => {
    writeFileSync(join(dir.path, 'not-a-cert.json'), '{"hello":1}\n');
    const r = await runCli(['certificate', 'verify', join(dir.path, 'not-a-cert.json')], { home });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/INVALID/);
    const missing = await runCli(['certificate', 'verify', join(dir.path, 'nope.json')], { home });
    expect(missing.code).toBe(2);
  });
});
