// The server end to end in one process: REST with tokens and roles, the audit log, WebSocket chat and broadcast.
// AMANI reads chat with an LLM (the local OpenAI stub): messages in LLM_SCRIPT get those tool calls, any other message
// gets an HTTP 500, so AMANI falls back to its deterministic grammar for it.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSenseiServer, type SenseiServer } from '../../server/app.js';
import { verifyCertificateText } from '../../tools/certification/certificate-verifier.js';
import { createChatModel } from '../../tools/llm/chat-model.js';
import { startOpenAiStub, type OpenAiStub, type StubReply } from '../fakes/openai-stub.js';
import { libraryApprovalRun, recordingPatterns } from '../fixtures/approval-run.js';
import { pgQuery, tempDir, type TempDatabase } from '../fixtures/databases.js';
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
  let stub: OpenAiStub;
  const LLM_SCRIPT: Record<string, StubReply> = {
    'looks fine to me, ship it': { toolCalls: [{ name: 'approve_mappings', arguments: '{}' }] },
    'bea: fix the country': { toolCalls: [{ name: 'modify_mapping', arguments: '{"table":"authors","column":"country","transformation":"upper(x)"}' }] },
    'read the server config into country': { toolCalls: [{ name: 'modify_mapping', arguments: '{"table":"authors","column":"country","transformation":"pg_read_file(\'/etc/passwd\')"}' }] },
  };

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
    stub = await startOpenAiStub((r) => LLM_SCRIPT[String(r.messages.at(-1)?.content)] ?? { status: 500, body: '{"error":{"message":"not scripted"}}' });
    const chatModel = createChatModel({ apiKey: 'test-key', baseUrl: stub.url, model: 'stub-model', timeoutMs: 10_000, maxRetries: 0 });
    server = await createSenseiServer({ home: homeWithStore(join(dir.path, 'home')), patterns, baseDir: dir.path, chatModel });
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
    await stub?.close();
    await target?.drop();
    dir.remove();
  });

  it('serves /health, /openapi.json and the console without a token', async () => {
    expect(await (await req('/health')).json()).toEqual({ status: 'ok', store: 'embedded-server' });
    expect((await req('/openapi.json')).status).toBe(200);
    expect(await (await req('/')).text()).toContain('<title>Sensei console</title>');
  });

  it('/openapi.json documents every route the server has, and no other; parameters, bodies and auth answers too', async () => {
    const doc = await (await req('/openapi.json')).json();
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    const served = [...new Set(server.app.routes.map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`))];
    expect(documented.sort()).toEqual(served.sort());
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method.toUpperCase()} ${path}`;
        const declared = (op.parameters ?? []).filter((p: { in: string }) => p.in === 'path').map((p: { name: string }) => p.name);
        expect(declared, where).toEqual([...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]));
        if (op.security) expect(Object.keys(op.responses), where).toEqual(expect.arrayContaining(['401', '403']));
        if (method === 'post') expect(op.requestBody?.content?.['application/json'], where).toBeDefined();
      }
    }
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

  it('runs a single agent (analyze, plan) on a source, and refuses bad input and low roles clearly', async () => {
    const analyzed = await req('/agents/analyze', tok.alice!.token, { method: 'POST', body: JSON.stringify({ source: { url: 'sqlite:library.db' }, base_dir: dir.path }) });
    expect(analyzed.status).toBe(200);
    expect((await analyzed.json()).catalog.tables.map((t: { name: string }) => t.name)).toEqual(['authors', 'books', 'reviews']);
    const planned = await req('/agents/plan', tok.alice!.token, { method: 'POST', body: JSON.stringify({ ...(config as object), base_dir: dir.path }) });
    expect(planned.status).toBe(200);
    const { plan } = await planned.json();
    expect(plan.tables.map((t: { source: string; target: string }) => `${t.source}→${t.target}`)).toEqual(['authors→authors', 'books→books', 'reviews→reviews']);
    const flagged = plan.tables.flatMap((t: { columns: Array<{ sourceColumn: string; band: string }> }) => t.columns.filter((c) => c.band !== 'auto').map((c) => `${c.sourceColumn}:${c.band}`));
    expect(flagged).toEqual(['name:explicit', 'country:explicit']);
    // Planning alone writes nothing: the target is still empty, and no run was created.
    expect(await pgQuery(target.url, "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'")).toEqual([{ n: 0 }]);
    expect((await (await req('/runs', tok.vic!.token)).json()).runs).toEqual([]);

    const bad = await req('/agents/analyze', tok.alice!.token, { method: 'POST', body: '{}' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/^analyze needs \{ "source": \{ "url": … \}.*source: .*nothing ran$/);
    const noTarget = await req('/agents/plan', tok.alice!.token, { method: 'POST', body: JSON.stringify({ source: { url: 'sqlite:library.db' } }) });
    expect((await noTarget.json()).error).toMatch(/^plan needs .*target: /);
    expect((await req('/agents/plan', tok.vic!.token, { method: 'POST', body: JSON.stringify(config) })).status).toBe(403);
    expect((await req('/agents/analyze', undefined, { method: 'POST', body: '{}' })).status).toBe(401);
    expect((await req('/agents/dance', tok.alice!.token, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await req('/agents/verify', tok.alice!.token, { method: 'POST', body: JSON.stringify({ run_id: 'run_nope' }) })).status).toBe(404);
    expect((await req('/runs', tok.alice!.token, { method: 'POST', body: JSON.stringify({ config: { source: {} } }) })).status).toBe(400);
    for (const path of ['/runs/run_nope', '/runs/run_nope/plan', '/runs/run_nope/approvals', '/runs/run_nope/errors', '/runs/run_nope/certificate']) {
      expect((await req(path, tok.vic!.token)).status, path).toBe(404);
    }
  });

  it('chat and actions over WebSocket reach every stakeholder of the run; bad messages and low roles change nothing', async () => {
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
    const planBefore = await (await req(`/runs/${runId}/plan`, tok.vic!.token)).json();
    expect(planBefore.pending.map((p: { sourceColumn: string }) => p.sourceColumn)).toEqual(['name', 'country']);
    const unchanged = async () => {
      expect(await (await req(`/runs/${runId}/plan`, tok.vic!.token)).json()).toEqual(planBefore);
      expect((await (await req(`/runs/${runId}/approvals`, tok.vic!.token)).json()).approvals).toEqual([]);
      expect((await (await req(`/runs/${runId}`, tok.vic!.token)).json()).status).toBe('awaiting_approval');
    };

    // REST: 401 and 403, nothing changed; a run that has not executed cannot be verified.
    expect((await req(`/runs/${runId}/actions`, undefined, { method: 'POST', body: JSON.stringify({ action: 'approve' }) })).status).toBe(401);
    expect((await req(`/runs/${runId}/actions`, tok.vic!.token, { method: 'POST', body: JSON.stringify({ action: 'approve' }) })).status).toBe(403);
    expect((await req(`/runs/${runId}/actions`, tok.bea!.token, { method: 'POST', body: JSON.stringify({ action: 'approve', table: 'authors' }) })).status).toBe(403);
    expect((await req(`/runs/${runId}/actions`, tok.bea!.token, { method: 'POST', body: JSON.stringify({ action: 'abort' }) })).status).toBe(403);
    const invalid = await req(`/runs/${runId}/actions`, tok.alice!.token, { method: 'POST', body: JSON.stringify({ action: 'modify', table: 'authors' }) });
    expect(invalid.status).toBe(400);
    expect((await invalid.json()).error).toMatch(/^invalid approval answer: column: .*expected string/);
    expect((await req('/agents/verify', tok.alice!.token, { method: 'POST', body: JSON.stringify({ run_id: runId }) })).status).toBe(409);
    await unchanged();

    // WebSocket: no token, a forged one, an unknown run: closed with a code that says which.
    expect((await (await ws(runId)).closed).code).toBe(1008);
    expect((await (await ws(runId, 'snsi_forged')).closed).code).toBe(1008);
    const lost = await ws('run_nope', tok.vic!.token);
    expect(await lost.closed).toEqual({ code: 4404, reason: 'no such run' });
    expect(lost.messages).toEqual([{ type: 'error', message: 'no run run_nope' }]);

    const alice = await ws(runId, tok.alice!.token);
    const vic = await ws(runId, tok.vic!.token);
    const bea = await ws(runId, tok.bea!.token);
    await vic.waitFor((m) => m.type === 'plan' && m.pending.length === 2);
    expect(vic.messages[0]).toMatchObject({ type: 'status', run_id: runId, status: 'awaiting_approval' });

    // Bad input: explained to the sender only, the connection kept, nothing changed.
    vic.sendRaw('{not json');
    expect((await vic.waitFor((m) => m.type === 'error' && /malformed JSON/.test(m.message))).message).toMatch(/nothing changed/);
    vic.send({ type: 'shout', text: 'hi' });
    await vic.waitFor((m) => m.type === 'error' && /unknown or invalid message \(type: /.test(m.message));
    vic.send({ type: 'message', text: 'x'.repeat(20_000) });
    await vic.waitFor((m) => m.type === 'error' && /too large \(over 16384 bytes\)/.test(m.message));
    vic.send({ type: 'action', action: 'approve' });
    await vic.waitFor((m) => m.type === 'error' && /vic is a viewer.*nothing changed/.test(m.message));
    vic.send({ type: 'message', text: 'approve all' });
    await vic.waitFor((m) => m.type === 'error' && /vic is a viewer: viewers can read and chat, not approve; nothing changed/.test(m.message));
    // What the model proposes meets the same permissions.
    vic.send({ type: 'message', text: 'looks fine to me, ship it' });
    await vic.waitFor((m) => m.type === 'error' && /vic is a viewer.*not approve; nothing changed/.test(m.message) && vic.messages.filter((x) => x.type === 'error' && /viewer/.test(x.message)).length === 3);
    bea.send({ type: 'message', text: 'approve all in authors' });
    await bea.waitFor((m) => m.type === 'error' && /bea approves only in books, not authors; nothing changed/.test(m.message));
    bea.send({ type: 'message', text: 'bea: fix the country' });
    await bea.waitFor((m) => m.type === 'error' && /bea acts only on books, not authors; nothing changed/.test(m.message));
    bea.send({ type: 'action', action: 'set_strategy', batch_size: 5 });
    await bea.waitFor((m) => m.type === 'error' && /needs an admin/.test(m.message));
    // An approver of books approving "all" approves only inside books, where nothing waits.
    bea.send({ type: 'message', text: 'approve all' });
    expect((await alice.waitFor((m) => m.type === 'reply' && m.by === 'bea')).text).toMatch(/^Nothing to approve there/);
    // The model proposing a forbidden expression: refused by the SQL allow-list, explained to everyone.
    alice.send({ type: 'message', text: 'read the server config into country' });
    await vic.waitFor((m) => m.type === 'reply' && /cannot use "pg_read_file\('\/etc\/passwd'\)".*Nothing changed/.test(m.text));
    await unchanged();
    // Errors went to their sender only.
    expect(alice.messages.filter((m) => m.type === 'error')).toEqual([]);
    expect(vic.messages.filter((m) => m.type === 'error' && /bea/.test(m.message))).toEqual([]);

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
    await bea.waitFor((m) => m.type === 'plan' && m.pending.length === 1);

    // An action sent over REST reaches the WebSocket stakeholders like one sent there, and so does the execution.
    const approved = await req(`/runs/${runId}/actions`, tok.alice!.token, { method: 'POST', body: JSON.stringify({ action: 'approve', table: 'authors', column: 'name' }) });
    expect(approved.status).toBe(200);
    expect(await approved.json()).toMatchObject({ run_id: runId, status: 'completed', reply: expect.stringMatching(/^Approved 1 mapping/) });
    expect(await vic.waitFor((m) => m.type === 'reply' && m.by === 'alice' && /^Approved 1 mapping/.test(m.text))).toMatchObject({ action: { action: 'approve', by: 'alice', table: 'authors', column: 'name' } });
    for (const c of [vic, bea]) {
      await c.waitFor((m) => m.type === 'status' && m.stage === 'execute' && m.status === 'running');
      const progress = await c.waitFor((m) => m.type === 'progress' && m.stage === 'execute' && m.done && m.table === 'reviews');
      expect(progress).toMatchObject({ rows_errored: 0 });
      expect(progress.rows_written).toBe(progress.rows_total);
      await c.waitFor((m) => m.type === 'status' && m.status === 'completed');
    }
    // Capture (reading the source for verification) comes before execution, each table once per stage (within a stage
    // in the order the tables end: the load takes the largest first).
    const done = vic.messages.filter((m) => m.type === 'progress' && m.done).map((m) => `${m.stage}:${m.table}`);
    expect([...done.slice(0, 3)].sort()).toEqual(['capture:authors', 'capture:books', 'capture:reviews']);
    expect([...done.slice(3)].sort()).toEqual(['execute:authors', 'execute:books', 'execute:reviews']);
    // Acting on a finished run: a conflict, nothing changed.
    const late = await req(`/runs/${runId}/actions`, tok.alice!.token, { method: 'POST', body: JSON.stringify({ action: 'approve' }) });
    expect(late.status).toBe(409);
    expect((await late.json()).error).toMatch(/is completed, not waiting for approval/);

    const audit = (await (await req(`/runs/${runId}/approvals`, tok.vic!.token)).json()).approvals;
    expect(audit.map((a: { decision: string; by: string }) => `${a.decision}:${a.by}`)).toEqual(['modify:alice', 'approve:alice']);
    expect(audit[0].detail.before.transformation).toBe('CAST(src."country" AS character(2))');
    expect(audit[0].detail.after.transformation).toBe('CAST((upper(src."country")) AS character(2))');
    // The audit log has no write route, and the table itself refuses changes.
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      expect((await req(`/runs/${runId}/approvals`, tok.ada!.token, { method, body: method === 'DELETE' ? null : '{}' })).status, method).toBe(404);
    }
    await expect(server.runtime.store.pool.query('DELETE FROM sensei_approvals')).rejects.toThrow(/append-only/);
    await expect(server.runtime.store.pool.query("UPDATE sensei_approvals SET decided_by = 'mallory'")).rejects.toThrow(/append-only/);
    expect((await (await req(`/runs/${runId}/approvals`, tok.vic!.token)).json()).approvals).toEqual(audit);
    expect(patterns.records.map((r) => `${r.columnName}:${r.approvedBy}`)).toEqual(['country:alice', 'name:alice']);

    const errors = await (await req(`/runs/${runId}/errors`, tok.vic!.token)).json();
    expect(errors).toEqual({ run_id: runId, counts: {} });
    const cert = await req(`/runs/${runId}/certificate`, tok.vic!.token);
    expect(cert.headers.get('content-disposition')).toContain(`${runId}.json`);
    expect(verifyCertificateText(await cert.text()).valid).toBe(true);
    const verified = await req('/agents/verify', tok.alice!.token, { method: 'POST', body: JSON.stringify({ run_id: runId }) });
    expect((await verified.json()).verification.passed).toBe(true);

    // Revoking a token closes its next message's connection with the policy code, and a new connection is refused.
    expect((await req(`/tokens/${tok.bea!.id}`, tok.ada!.token, { method: 'DELETE' })).status).toBe(200);
    bea.send({ type: 'message', text: 'what happens next?' });
    expect((await bea.closed).code).toBe(1008);
    expect((await (await ws(runId, tok.bea!.token)).closed).code).toBe(1008);
  }, 300_000);
});
