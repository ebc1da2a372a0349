// Durable approval: SIGKILL the server while a run waits, start it again, and the run still waits with the same plan.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libraryApprovalRun } from '../fixtures/approval-run.js';
import { runCli, SENSEI_BIN } from '../fixtures/cli.js';
import { tempDir, type TempDatabase } from '../fixtures/databases.js';
import { connectWs } from '../fixtures/ws-client.js';
import { homeWithStore } from '../fixtures/store-template.js';

describe('sensei serve survives a crash while a run waits for approval', () => {
  const dir = tempDir('sensei-durable-');
  const home = homeWithStore(join(dir.path, 'home'));
  let target: TempDatabase;
  const children: ChildProcess[] = [];

  const startServer = async (): Promise<{ child: ChildProcess; base: string }> => {
    const child = spawn(process.execPath, [SENSEI_BIN, 'serve', '--port', '0', '--json'], {
      env: { ...process.env, SENSEI_HOME: home, SENSEI_STORE_URL: '', OPENAI_API_KEY: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const line = await new Promise<string>((ok, fail) => {
      createInterface({ input: child.stdout! }).once('line', ok);
      child.once('exit', (code) => fail(new Error(`serve exited with ${code}: ${stderr}`)));
    });
    return { child, base: `http://127.0.0.1:${JSON.parse(line).listening}` };
  };

  beforeAll(async () => {
    ({ target } = await libraryApprovalRun(dir.path));
  }, 60_000);
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await target?.drop();
    dir.remove();
  });

  it('keeps the waiting run, its plan and the decisions made so far', async () => {
    // Argument errors and help open no store: they run while the first server starts.
    const argChecks = Promise.all([
      runCli(['token', 'create', '--name', 'x', '--role', 'root'], { home }),
      runCli(['serve', '--port', 'abc'], { home }),
      ...['serve', 'token'].map((cmd) => runCli([cmd, '--help'], { home })),
    ]);
    const first = await startServer();
    // The token commands reach the store the running server holds (a second process never opens the data dir).
    const created = await runCli(['token', 'create', '--name', 'ada', '--role', 'admin', '--json'], { home });
    expect(created.code, created.stderr).toBe(0);
    const token = created.json.token as string;
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

    const post = await fetch(`${first.base}/runs`, { method: 'POST', headers: auth, body: JSON.stringify({ config: { source: { url: 'sqlite:library.db' }, target: { url: target.url, schema: 'target.sql' } }, base_dir: dir.path }) });
    expect(post.status).toBe(202);
    const { run_id: runId } = (await post.json()) as { run_id: string };
    const ws1 = await connectWs(`${first.base.replace('http', 'ws')}/ws/runs/${runId}?token=${token}`);
    await ws1.waitFor((m) => m.type === 'plan' && m.pending.length === 2, 120_000);
    ws1.send({ type: 'message', text: 'map country to country_code' });
    await ws1.waitFor((m) => m.type === 'plan' && m.pending.length === 1, 60_000);
    const planBefore = await (await fetch(`${first.base}/runs/${runId}/plan`, { headers: auth })).json();

    const [badRole, badPort, ...helps] = await argChecks;
    expect(badRole!.code).toBe(2);
    expect(badRole!.stderr).toMatch(/unknown role "root": viewer, approver or admin/);
    expect(badPort!.code).toBe(2);
    expect(badPort!.stderr).toMatch(/--port must be a port number, not "abc"/);
    helps.forEach((h, i) => expect(h.stdout).toContain(`Usage: sensei ${['serve', 'token'][i]}`));

    first.child.kill('SIGKILL');
    await new Promise((ok) => first.child.once('exit', ok));

    const second = await startServer();
    const status = (await (await fetch(`${second.base}/runs/${runId}`, { headers: auth })).json()) as { status: string };
    expect(status.status).toBe('awaiting_approval');
    expect(await (await fetch(`${second.base}/runs/${runId}/plan`, { headers: auth })).json()).toEqual(planBefore);

    // The conversation continues where it stopped: the one mapping left is approved, the run completes.
    const ws2 = await connectWs(`${second.base.replace('http', 'ws')}/ws/runs/${runId}?token=${token}`);
    ws2.send({ type: 'message', text: 'approve all' });
    expect((await ws2.waitFor((m) => m.type === 'reply' && m.by === 'ada')).text).toMatch(/^Approved 1 mapping\(s\) \(authors\.name → authors\.full_name\)/);
    await ws2.waitFor((m) => m.type === 'status' && m.status === 'completed', 180_000);
    const audit = (await (await fetch(`${second.base}/runs/${runId}/approvals`, { headers: auth })).json()) as { approvals: Array<{ decision: string; by: string }> };
    expect(audit.approvals.map((a) => `${a.decision}:${a.by}`)).toEqual(['modify:ada', 'approve:ada']);
    ws2.close();

    // The token commands while the server runs: listed without the secret, revoked for the server at once.
    const listed = await runCli(['token', 'list', '--json'], { home });
    expect(listed.json.tokens.map((t: { name: string; role: string; revokedAt: string | null }) => [t.name, t.role, t.revokedAt])).toEqual([['ada', 'admin', null]]);
    expect(listed.stdout).not.toContain(token);
    expect((await runCli(['token', 'revoke', created.json.id], { home })).code).toBe(0);
    expect((await fetch(`${second.base}/runs/${runId}`, { headers: auth })).status).toBe(401);
    const again = await runCli(['token', 'revoke', created.json.id], { home });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/no live token/);

    second.child.kill('SIGTERM');
    expect(await new Promise((ok) => second.child.once('exit', ok))).toBe(0);
  }, 600_000);
});
