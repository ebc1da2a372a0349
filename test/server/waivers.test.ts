// Waivers through the stakeholder channels (REST, WebSocket messages, AMANI's chat) with roles, table scopes, the
// audit log and the broadcast; then the graph itself (sensei resume of a run whose verification failed) verifies
// again with the approved waivers and certifies, each waiver in the certificate's exceptions with who approved it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSenseiServer, type SenseiServer } from '../../server/app.js';
import { verifyCertificateText } from '../../tools/certification/certificate-verifier.js';
import type { SenseiConfig } from '../../core/config.js';
import { tempDir, type TempDatabase } from '../fixtures/databases.js';
import { homeWithStore } from '../fixtures/store-template.js';
import { stakeholderTokens, waiverRun } from '../fixtures/waiver-run.js';
import { connectWs, type WsClient } from '../fixtures/ws-client.js';

describe('waivers through REST, WebSocket and the chat, then certified by the graph', () => {
  const dir = tempDir('sensei-waivers-');
  let server: SenseiServer;
  let target: TempDatabase;
  let port: number;
  let stop: () => Promise<void>;
  let runId: string;
  const tok: Record<string, string> = {};
  const clients: WsClient[] = [];
  let cached: Array<{ id: string; path: string[] }> = [];

  const req = (path: string, token?: string, init: RequestInit = {}) =>
    server.app.request(path, {
      ...init,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    }) as Promise<Omit<Response, 'json'> & { json(): Promise<any> }>;
  const post = (path: string, token: string | undefined, body: unknown) => req(path, token, { method: 'POST', body: JSON.stringify(body) });
  const ws = async (token: string) => {
    const c = await connectWs(`ws://127.0.0.1:${port}/ws/runs/${runId}?token=${token}`);
    clients.push(c);
    return c;
  };
  const findings = async () => (await (await req(`/runs/${runId}/findings`, tok.vic)).json()).findings as Array<{ id: string; code: string; path: string[]; table: string | null; waiver: { id: number } | null }>;

  beforeAll(async () => {
    let config: SenseiConfig;
    ({ config, target } = await waiverRun(dir.path, 'sensei_waivers'));
    server = await createSenseiServer({ home: homeWithStore(join(dir.path, 'home')), baseDir: dir.path, patterns: { search: async () => [], record: async () => undefined } });
    Object.assign(tok, await stakeholderTokens(server.tokens, [['ada', 'admin'], ['vic', 'viewer'], ['bea', 'approver', ['books']], ['abe', 'approver', ['authors']]]));
    ({ port, close: stop } = await server.listen(0));
    const result = await server.runtime.start(config, dir.path, { preApproved: true });
    runId = result.runId;
    expect(result.status).toBe('failed');
    cached = await findings();
  }, 180_000);
  afterAll(async () => {
    for (const c of clients) c.close();
    await stop?.();
    await server?.close();
    await target?.drop();
    dir.remove();
  });

  it("lists the latest verification's findings with an id and the table each concerns; unknown runs and tokens are refused", async () => {
    const list = await findings();
    expect(list.map((f) => [f.code, f.path, f.table, f.waiver])).toEqual(
      expect.arrayContaining([
        ['rule_failed', ['rules', 'cheap books'], 'books', null],
        ['rule_failed', ['rules', 'short names'], 'authors', null],
        ['query_mismatch', ['queries', 'book count'], null, null],
      ]),
    );
    expect(list).toHaveLength(3);
    for (const f of list) expect(f.id).toMatch(/^[0-9a-f]{8}$/);
    expect((await req(`/runs/${runId}/findings`)).status).toBe(401);
    expect((await req('/runs/run_nope/findings', tok.vic)).status).toBe(404);
    expect((await req('/runs/run_nope/waivers', tok.vic)).status).toBe(404);
    expect(await (await req(`/runs/${runId}/waivers`, tok.vic)).json()).toEqual({ run_id: runId, waivers: [] });
  });

  it('REST: only approvers, within their tables, for a finding the verification has, with a reason; who is the token holder', async () => {
    const [books, authors, query] = ['cheap books', 'short names', 'book count'].map((n) => findingsAt(n));
    const alice = await ws(tok.vic!);
    await alice.waitFor((m) => m.type === 'status');
    const reason = 'prices are in cents in this legacy catalogue, ticket FIN-3';

    expect((await post(`/runs/${runId}/waivers`, undefined, { finding: books, reason })).status).toBe(401);
    expect((await post(`/runs/${runId}/waivers`, tok.vic, { finding: books, reason })).status).toBe(403);
    const scoped = await post(`/runs/${runId}/waivers`, tok.abe, { finding: books, reason });
    expect(scoped.status).toBe(403);
    expect((await scoped.json()).error).toBe('abe waives only in authors, not books; nothing changed');
    const whole = await post(`/runs/${runId}/waivers`, tok.bea, { finding: query, reason });
    expect(whole.status).toBe(403);
    expect((await whole.json()).error).toMatch(/^the finding concerns the whole run: waiving it needs an admin or an approver of every table/);
    const unknown = await post(`/runs/${runId}/waivers`, tok.bea, { finding: '00000000', reason });
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).error).toMatch(new RegExp(`^the latest verification of run ${runId} has no finding 00000000; list them with GET /runs/${runId}/findings`));
    const wrongPath = await post(`/runs/${runId}/waivers`, tok.bea, { code: 'rule_failed', path: ['rules', 'no such rule'], reason });
    expect(wrongPath.status).toBe(400);
    expect((await wrongPath.json()).error).toMatch(/has no rule_failed finding at \[rules, no such rule\]/);
    const empty = await post(`/runs/${runId}/waivers`, tok.bea, { finding: books, reason: '   ' });
    expect(empty.status).toBe(400);
    expect((await empty.json()).error).toMatch(/reason: give the reason in a sentence/);
    const forged = await post(`/runs/${runId}/waivers`, tok.bea, { finding: books, reason, by: 'the CEO' });
    expect(forged.status).toBe(400);
    expect((await forged.json()).error).toMatch(/Unrecognized key.*"by"/);
    expect((await post('/runs/run_nope/waivers', tok.bea, { finding: books, reason })).status).toBe(404);
    expect(await (await req(`/runs/${runId}/waivers`, tok.vic)).json()).toEqual({ run_id: runId, waivers: [] });
    expect((await (await req(`/runs/${runId}/approvals`, tok.vic)).json()).approvals.filter((a: { decision: string }) => a.decision !== 'approve')).toEqual([]);

    const added = await post(`/runs/${runId}/waivers`, tok.bea, { finding: books, reason });
    expect(added.status).toBe(201);
    const { waiver } = await added.json();
    expect(waiver).toMatchObject({ finding_id: books, code: 'rule_failed', path: ['rules', 'cheap books'], table: 'books', reason, approved_by: 'bea' });
    // Broadcast to every stakeholder of the run, with who approved it.
    expect(await alice.waitFor((m) => m.type === 'waiver')).toEqual({ type: 'waiver', run_id: runId, change: 'added', waiver, by: 'bea' });
    expect((await alice.waitFor((m) => m.type === 'reply' && m.by === 'bea')).text).toMatch(new RegExp(`^Waiver ${waiver.id} for ${books} \\(rule_failed at rules, cheap books\\) approved by bea: `));
    // By code and path too (the form sensei verify --json reports), for a whole-run finding by an admin.
    const byPath = await post(`/runs/${runId}/waivers`, tok.ada, { code: 'query_mismatch', path: ['queries', 'book count'], reason: 'the target query counts a sentinel row on purpose' });
    expect(byPath.status).toBe(201);
    expect((await findings()).map((f) => [f.id, f.waiver?.id ?? null])).toEqual(
      expect.arrayContaining([
        [books, waiver.id],
        [authors, null],
        [query, (await byPath.json()).waiver.id],
      ]),
    );

    // Revoking: the scope holds, an unknown id is 404, and both changes are in the audit log.
    expect((await req(`/runs/${runId}/waivers/${waiver.id}`, tok.abe, { method: 'DELETE' })).status).toBe(403);
    expect((await req(`/runs/${runId}/waivers/${waiver.id}`, tok.vic, { method: 'DELETE' })).status).toBe(403);
    expect((await req(`/runs/${runId}/waivers/99999`, tok.bea, { method: 'DELETE' })).status).toBe(404);
    expect((await req(`/runs/${runId}/waivers/abc`, tok.bea, { method: 'DELETE' })).status).toBe(400);
    const revoked = await req(`/runs/${runId}/waivers/${waiver.id}`, tok.bea, { method: 'DELETE' });
    expect(revoked.status).toBe(200);
    expect(await alice.waitFor((m) => m.type === 'waiver' && m.change === 'revoked')).toMatchObject({ waiver: { id: waiver.id }, by: 'bea' });
    const audit = (await (await req(`/runs/${runId}/approvals`, tok.vic)).json()).approvals.filter((a: { decision: string }) => a.decision !== 'approve');
    expect(audit.map((a: { decision: string; by: string; detail: { waiver: { finding_id: string } } }) => [a.decision, a.by, a.detail.waiver.finding_id])).toEqual([
      ['waive', 'bea', books],
      ['waive', 'ada', query],
      ['revoke_waiver', 'bea', books],
    ]);
    expect(audit[0].reason).toBe(reason);
  });

  it('WebSocket and chat: findings on request, waivers by id with a reason, the same permissions; everyone sees the change', async () => {
    const [books, authors] = ['cheap books', 'short names'].map((n) => findingsAt(n));
    const vic = await ws(tok.vic!);
    const bea = await ws(tok.bea!);
    const abe = await ws(tok.abe!);
    await vic.waitFor((m) => m.type === 'status');

    vic.send({ type: 'findings' });
    const listed = await vic.waitFor((m) => m.type === 'findings');
    expect(listed).toMatchObject({ run_id: runId, passed: false });
    expect(listed.findings).toHaveLength(3);
    // Which findings the recipient may waive or revoke: none for a viewer, those of their tables for a scoped approver.
    expect(listed.may_waive).toEqual([]);
    expect(bea.messages.filter((m) => m.type === 'findings')).toEqual([]);
    bea.send({ type: 'findings' });
    expect((await bea.waitFor((m) => m.type === 'findings')).may_waive).toEqual([books]);

    vic.send({ type: 'waive', finding: authors, reason: 'short names are fine in this catalogue' });
    await vic.waitFor((m) => m.type === 'error' && m.message === 'vic is a viewer: viewers can read and chat, not waive findings; nothing changed');
    vic.send({ type: 'message', text: `waive ${authors} because short names are fine in this catalogue` });
    await vic.waitFor((m) => m.type === 'error' && /vic is a viewer.*not waive findings/.test(m.message) && vic.messages.filter((x) => x.type === 'error').length === 2);
    bea.send({ type: 'message', text: `waive ${authors} because short names are fine in this catalogue` });
    await bea.waitFor((m) => m.type === 'error' && m.message === 'bea waives only in books, not authors; nothing changed');
    bea.send({ type: 'waive', finding: books, reason: 'short' });
    await bea.waitFor((m) => m.type === 'error' && /reason: give the reason in a sentence/.test(m.message));
    bea.send({ type: 'revoke_waiver', waiver_id: 'one' });
    await bea.waitFor((m) => m.type === 'error' && /unknown or invalid message \(waiver_id: /.test(m.message));
    abe.send({ type: 'message', text: 'waive 1a2b3c4d' });
    await abe.waitFor((m) => m.type === 'reply' && m.to === 'abe' && /needs the finding's id and a reason/.test(m.text));

    // "show findings" in the chat, then a waiver in words; the reply and the change reach everyone.
    abe.send({ type: 'message', text: 'show findings' });
    expect((await vic.waitFor((m) => m.type === 'reply' && m.to === 'abe' && /^The latest verification/.test(m.text))).text).toContain(`• ${authors}: rule short names on authors`);
    abe.send({ type: 'message', text: `waive ${authors} because short pen names are usual in this catalogue, ticket ED-9` });
    const change = await vic.waitFor((m) => m.type === 'waiver' && m.waiver.finding_id === authors);
    expect(change).toMatchObject({ change: 'added', by: 'abe', waiver: { table: 'authors', approved_by: 'abe', reason: 'short pen names are usual in this catalogue, ticket ED-9' } });
    bea.send({ type: 'waive', finding: books, reason: 'prices are in cents in this legacy catalogue, ticket FIN-3' });
    const booksWaiver = (await vic.waitFor((m) => m.type === 'waiver' && m.change === 'added' && m.waiver.finding_id === books)).waiver;
    expect(booksWaiver).toMatchObject({ approved_by: 'bea', table: 'books' });
    abe.send({ type: 'message', text: `revoke waiver ${booksWaiver.id}` });
    await abe.waitFor((m) => m.type === 'error' && m.message === 'abe waives only in authors, not books; nothing changed');
    expect((await findings()).every((f) => f.waiver !== null)).toBe(true);
  });

  it('sensei resume of the failed run verifies again in the graph with the waivers and certifies, naming who approved each', async () => {
    const before = await req(`/runs/${runId}/certificate`, tok.vic);
    expect(before.status).toBe(404);
    const resumed = await server.runtime.continueRun(runId);
    expect(resumed.error).toBeNull();
    expect(resumed.status).toBe('completed');
    expect(resumed.verification!.passed).toBe(true);
    expect(resumed.verification!.waived!.map((w) => [w.finding.path[1], w.waiver.approved_by]).sort()).toEqual([
      ['book count', 'ada'],
      ['cheap books', 'bea'],
      ['short names', 'abe'],
    ]);
    const text = readFileSync(resumed.certificatePath!, 'utf8');
    expect(verifyCertificateText(text).valid).toBe(true);
    const exceptions = JSON.parse(text).payload.exceptions as Array<{ approved_by: string; waiver?: { code: string; path: string[] } }>;
    expect(exceptions.filter((e) => e.waiver).map((e) => [e.waiver!.path[1], e.approved_by]).sort()).toEqual([
      ['book count', 'ada'],
      ['cheap books', 'bea'],
      ['short names', 'abe'],
    ]);
    const served = await req(`/runs/${runId}/certificate`, tok.vic);
    expect(served.status).toBe(200);
    expect(await served.text()).toBe(text);
    // A completed run has nothing left to resume.
    await expect(server.runtime.continueRun(runId)).rejects.toThrow(/is completed: there is nothing to resume/);

    // Over REST: verify again (waivers applied) and, with certify, issue the certificate again; approvers only.
    expect((await post('/agents/verify', tok.vic, { run_id: runId, certify: true })).status).toBe(403);
    const plain = await (await post('/agents/verify', tok.bea, { run_id: runId })).json();
    expect(plain).toMatchObject({ agent: 'verify', run_id: runId, verification: { passed: true } });
    expect(plain.certificate).toBeUndefined();
    expect(plain.verification.waived).toHaveLength(3);
    const certified = await (await post('/agents/verify', tok.bea, { run_id: runId, certify: true })).json();
    expect(certified).toMatchObject({ verification: { passed: true }, certificate: resumed.certificatePath });
    expect(verifyCertificateText(readFileSync(certified.certificate, 'utf8')).valid).toBe(true);
    expect((await post('/agents/verify', tok.bea, { run_id: runId, certify: 'yes' })).status).toBe(400);

    // The run now has several stored verifications, the first failed: the chat shows the latest one's, which passed
    // with the three findings waived.
    const vic = await ws(tok.vic!);
    await vic.waitFor((m) => m.type === 'status');
    vic.send({ type: 'message', text: 'show findings' });
    const reply = (await vic.waitFor((m) => m.type === 'reply' && m.to === 'vic' && /^The latest verification/.test(m.text))).text as string;
    expect(reply).toMatch(/^The latest verification \([^)]+\) passed:\n/);
    expect(reply.split('\n').filter((l) => / — waived \(waiver \d+, approved by (ada|bea|abe)\)$/.test(l))).toHaveLength(3);
  }, 180_000);

  function findingsAt(name: string): string {
    const hit = cached.find((f) => f.path[1] === name);
    if (!hit) throw new Error(`no finding ${name} in ${JSON.stringify(cached)}`);
    return hit.id;
  }
});
