// The server end to end in one process: REST with tokens and roles, the audit log, WebSocket chat and broadcast.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSenseiServer, type SenseiServer } from '../../server/app.js';
import { verifyCertificateText } from '../../tools/certification/certificate-verifier.js';
import { libraryApprovalRun, recordingPatterns } from '../fixtures/approval-run.js';
import { tempDir, type TempDatabase } from '../fixtures/databases.js';
import { connectWs, type WsClient } from '../fixtures/ws-client.js';
import { homeWithStore } from '../fixtures/store-template.js';

describe('sensei server', () => {
  const dir = tempDir('sensei-server-');
  const patterns = recordingPatterns();
  let server: SenseiServer;
  let target: TempDatabase;
  let config: unknown;
  let port: number;
  let stop: () => Promise<void>;
  const tok: Record<string, { token: string; id: string }> = {};
  const clients: WsClient[] = [];

  const req = (path: string, token?: string, init: RequestInit = {}) =>
    server.app.request(path, {
      ...init,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers ?? {}) },
    }) as Promise<Omit<Response, 'json'> & { json(): Promise<any> }>;
  const ws = async (runId: string, token?: string) => {
    const c = await connectWs(`ws://127.0.0.1:${port}/ws/runs/${runId}${token ? `?token=${token}` : ''}`);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    const run = await libraryApprovalRun(dir.path);
    target = run.target;
    config = { source: { url: 'sqlite:library.db' }, target: { url: target.url, schema: 'target.sql' } };
    server = await createSenseiServer({ home: homeWithStore(join(dir.path, 'home')), patterns, baseDir: dir.path });
    for (const [name, role, tables] of [['ada', 'admin'], ['alice', 'approver'], ['vic', 'viewer'], ['bea', 'approver', ['books']]] as const) {
      const { token, stakeholder } = await server.tokens.create({ name, role, ...(tables ? { tables: [...tables] } : {}) });
      tok[name] = { token, id: stakeholder.id };
    }
    ({ port, close: stop } = await server.listen(0));
  }, 120_000);
  afterAll(async () => {
    for (const c of clients) c.close();
    await stop?.();
    await server?.close();
    await target?.drop();
    dir.remove();
  });

  it('serves /health, /openapi.json and the console without a token', async () => {
    expect(await (await req('/health')).json()).toEqual({ status: 'ok', store: 'embedded-server' });
    const doc = await (await req('/openapi.json')).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/runs', '/runs/{id}', '/runs/{id}/plan', '/runs/{id}/approvals', '/runs/{id}/errors', '/runs/{id}/certificate', '/agents/{agent}', '/health']));
    expect(await (await req('/')).text()).toContain('<title>Sensei console</title>');
  });

  it('401 without or with a bad token, 403 for a role that is too low; admins manage tokens, revocation works', async () => {
    expect((await req('/runs')).status).toBe(401);
    expect((await req('/runs', 'snsi_not-a-real-token')).status).toBe(401);
    expect((await req('/runs', tok.vic!.token, { method: 'POST', body: JSON.stringify({ config }) })).status).toBe(403);
    expect((await req('/tokens', tok.alice!.token)).status).toBe(403);

    const created = await req('/tokens', tok.ada!.token, { method: 'POST', body: JSON.stringify({ name: 'tmp', role: 'viewer' }) });
    expect(created.status).toBe(201);
    const t = await created.json();
    expect(t).toMatchObject({ name: 'tmp', role: 'viewer', revokedAt: null });
    expect((await req('/runs', t.token)).status).toBe(200);
    const list = await (await req('/tokens', tok.ada!.token)).json();
    expect(list.tokens.map((x: { name: string }) => x.name)).toEqual(['ada', 'alice', 'vic', 'bea', 'tmp']);
    expect(JSON.stringify(list)).not.toContain(t.token);
    expect((await req('/tokens', tok.ada!.token, { method: 'POST', body: JSON.stringify({ name: 'x', role: 'root' }) })).status).toBe(400);
    expect((await req(`/tokens/${t.id}`, tok.alice!.token, { method: 'DELETE' })).status).toBe(403);
    expect((await req(`/tokens/${t.id}`, tok.ada!.token, { method: 'DELETE' })).status).toBe(200);
    expect((await req('/runs', t.token)).status).toBe(401);
    expect((await req(`/tokens/${t.id}`, tok.ada!.token, { method: 'DELETE' })).status).toBe(404);
  });

  it('runs a single agent, and refuses bad input clearly', async () => {
    const analyzed = await req('/agents/analyze', tok.alice!.token, { method: 'POST', body: JSON.stringify({ source: { url: 'sqlite:library.db' }, base_dir: dir.path }) });
    expect(analyzed.status).toBe(200);
    expect((await analyzed.json()).catalog.tables.map((t: { name: string }) => t.name)).toEqual(['authors', 'books', 'reviews']);
    expect((await req('/agents/analyze', tok.alice!.token, { method: 'POST', body: '{}' })).status).toBe(400);
    expect((await req('/agents/dance', tok.alice!.token, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await req('/runs', tok.alice!.token, { method: 'POST', body: JSON.stringify({ config: { source: {} } }) })).status).toBe(400);
  });

  it('chat and actions over WebSocket reach every stakeholder of the run; bad messages change nothing', async () => {
    const created = await req('/runs', tok.alice!.token, { method: 'POST', body: JSON.stringify({ config }) });
    expect(created.status).toBe(202);
    const { run_id: runId } = await created.json();
    let status = '';
    for (let i = 0; i < 600 && status !== 'awaiting_approval'; i++) {
      const r = await req(`/runs/${runId}`, tok.vic!.token);
      status = r.status === 200 ? (await r.json()).status : '';
      if (status !== 'awaiting_approval') await new Promise((ok) => setTimeout(ok, 200));
    }
    expect(status).toBe('awaiting_approval');
    const plan = await (await req(`/runs/${runId}/plan`, tok.vic!.token)).json();
    expect(plan.pending.map((p: { sourceColumn: string }) => p.sourceColumn)).toEqual(['name', 'country']);

    expect((await (await ws(runId)).closed).code).toBe(1008);
    expect((await (await ws(runId, 'snsi_forged')).closed).code).toBe(1008);

    const alice = await ws(runId, tok.alice!.token);
    const vic = await ws(runId, tok.vic!.token);
    const bea = await ws(runId, tok.bea!.token);
    await vic.waitFor((m) => m.type === 'plan' && m.pending.length === 2);

    // Bad input: explained to the sender, connection kept, nothing changed.
    vic.sendRaw('{not json');
    expect((await vic.waitFor((m) => m.type === 'error' && /malformed JSON/.test(m.message))).message).toMatch(/nothing changed/);
    vic.send({ type: 'shout', text: 'hi' });
    await vic.waitFor((m) => m.type === 'error' && /unknown or invalid message/.test(m.message));
    vic.send({ type: 'message', text: 'x'.repeat(20_000) });
    await vic.waitFor((m) => m.type === 'error' && /too large/.test(m.message));
    vic.send({ type: 'action', action: 'approve' });
    await vic.waitFor((m) => m.type === 'error' && /vic is a viewer.*nothing changed/.test(m.message));
    bea.send({ type: 'message', text: 'approve all in authors' });
    await bea.waitFor((m) => m.type === 'error' && /bea approves only in books, not authors; nothing changed/.test(m.message));
    bea.send({ type: 'action', action: 'set_strategy', batch_size: 5 });
    await bea.waitFor((m) => m.type === 'error' && /needs an admin/.test(m.message));
    expect((await (await req(`/runs/${runId}/plan`, tok.vic!.token)).json()).pending).toHaveLength(2);
    expect((await req(`/runs/${runId}/actions`, tok.vic!.token, { method: 'POST', body: JSON.stringify({ action: 'approve' }) })).status).toBe(403);
    expect((await req(`/runs/${runId}/actions`, tok.alice!.token, { method: 'POST', body: JSON.stringify({ action: 'modify', table: 'authors' }) })).status).toBe(400);

    // A viewer may ask; everyone sees the question and the answer.
    vic.send({ type: 'message', text: 'why is name low?' });
    await alice.waitFor((m) => m.type === 'message' && m.from === 'vic' && m.text === 'why is name low?');
    expect((await alice.waitFor((m) => m.type === 'reply' && /^authors\.name → authors\.full_name: confidence/.test(m.text))).to).toBe('vic');
    vic.send({ type: 'message', text: 'please just do whatever' });
    await vic.waitFor((m) => m.type === 'reply' && /did not understand that, so I did nothing/.test(m.text));

    // An approver edits in chat: allow-list refusal first, then a good edit; everyone sees both.
    alice.send({ type: 'message', text: 'use pg_read_file(x) for country' });
    await vic.waitFor((m) => m.type === 'reply' && /cannot use "pg_read_file\(x\)".*Nothing changed/.test(m.text));
    alice.send({ type: 'message', text: 'use upper(x) for country' });
    await vic.waitFor((m) => m.type === 'reply' && /^Changed authors\.country/.test(m.text));
    await vic.waitFor((m) => m.type === 'plan' && m.pending.length === 1);

    alice.send({ type: 'action', action: 'approve', table: 'authors', column: 'name' });
    const progress = await vic.waitFor((m) => m.type === 'progress' && m.done && m.table === 'reviews', 180_000);
    expect(progress).toMatchObject({ rows_errored: 0 });
    expect(progress.rows_written).toBe(progress.rows_total);
    await vic.waitFor((m) => m.type === 'status' && m.status === 'completed', 180_000);

    const audit = (await (await req(`/runs/${runId}/approvals`, tok.vic!.token)).json()).approvals;
    expect(audit.map((a: { decision: string; by: string }) => `${a.decision}:${a.by}`)).toEqual(['modify:alice', 'approve:alice']);
    expect(audit[0].detail.before.transformation).toBe('CAST(src."country" AS character(2))');
    // The audit log has no write route, and the table itself refuses changes.
    expect((await req(`/runs/${runId}/approvals`, tok.ada!.token, { method: 'DELETE' })).status).toBe(404);
    expect((await req(`/runs/${runId}/approvals`, tok.ada!.token, { method: 'PUT', body: '{}' })).status).toBe(404);
    await expect(server.runtime.store.pool.query('DELETE FROM sensei_approvals')).rejects.toThrow(/append-only/);
    expect(patterns.records.map((r) => `${r.columnName}:${r.approvedBy}`)).toEqual(['country:alice', 'name:alice']);

    const errors = await (await req(`/runs/${runId}/errors`, tok.vic!.token)).json();
    expect(errors).toEqual({ run_id: runId, counts: {} });
    const cert = await req(`/runs/${runId}/certificate`, tok.vic!.token);
    expect(cert.headers.get('content-disposition')).toContain(`${runId}.json`);
    expect(verifyCertificateText(await cert.text()).valid).toBe(true);
    const verified = await req('/agents/verify', tok.alice!.token, { method: 'POST', body: JSON.stringify({ run_id: runId }) });
    expect((await verified.json()).verification.passed).toBe(true);

    // Revoking a token closes its next message's connection with the policy code.
    expect((await req(`/tokens/${tok.bea!.id}`, tok.ada!.token, { method: 'DELETE' })).status).toBe(200);
    bea.send({ type: 'message', text: 'what happens next?' });
    expect((await bea.closed).code).toBe(1008);
  }, 300_000);
});
