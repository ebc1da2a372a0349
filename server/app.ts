// The Sensei server: hono REST API, WebSocket chat with AMANI per run, bearer-token auth, and the web console.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createNodeWebSocket } from '@hono/node-ws';
import type { ChatOpenAI } from '@langchain/openai';
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { WSContext } from 'hono/ws';
import { describeError, isConfigError, isSenseiError, RunStateError } from '../core/errors.js';
import type { PatternLibrary } from '../core/profile.js';
import type { Stage } from '../core/run.js';
import { createAmaniService, type IntentInterpreter, type WaiverCommand } from '../graph/amani-service.js';
import { createRuntime, newRunId, type RunResult, type SenseiRuntime } from '../graph/runtime.js';
import type { WaiverOutcome, WaiverView } from '../graph/waiver-service.js';
import { parseConfig } from '../tools/ingest/load-config.js';
import { createPatternLibrary } from '../tools/patterns/pattern-library.js';
import { createTokenStore, hasRole, type Role, type Stakeholder, type TokenStore } from '../tools/store/token-store.js';
import { runAgent } from './agents-route.js';
import { authorize, authorizeWaiver } from './authorize.js';
import { CONSOLE_HTML } from './console.js';
import { OPENAPI_DOCUMENT } from './openapi.js';
import { ClientMessage, MAX_MESSAGE_BYTES, type ServerMessage } from './protocol.js';
import { createRunHub, type Listener, type RunHub } from './run-hub.js';

export interface SenseiServerOptions {
  /** Sensei's home (embedded store, keys, certificates). */
  home: string;
  /** A PostgreSQL server with pgvector for the store; default the embedded store under `home`. */
  storeUrl?: string;
  /** Learns approved and corrected mappings. Default none. */
  patterns?: PatternLibrary;
  /** The LLM AMANI reads chat messages with (tool calling). Default none: AMANI's deterministic grammar. */
  chatModel?: ChatOpenAI;
  /** Overrides how chat messages are read (tests script it); wins over `chatModel`. */
  interpreter?: IntentInterpreter;
  /** Where relative paths of configs posted without `base_dir` resolve. Default the working directory. */
  baseDir?: string;
}

export interface SenseiServer {
  app: Hono;
  runtime: SenseiRuntime;
  tokens: TokenStore;
  hub: RunHub;
  /** Listens on 127.0.0.1 (port 0: any free port). */
  listen(port: number, host?: string): Promise<{ port: number; close(): Promise<void> }>;
  close(): Promise<void>;
}

/** WebSocket close code for a missing, invalid or revoked token (RFC 6455 "policy violation"). */
export const WS_POLICY_VIOLATION = 1008;

function bearer(c: Context): string | undefined {
  const h = c.req.header('authorization');
  const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m?.[1] ?? c.req.query('token') ?? undefined;
}

export async function createSenseiServer(options: SenseiServerOptions): Promise<SenseiServer> {
  const hub = createRunHub();
  // Capture (reading the source for verification) and execution both report table progress: the stage tells them apart.
  const stageOf = new Map<string, Stage>();
  const runtime = await createRuntime({
    home: options.home,
    ...(options.storeUrl ? { storeUrl: options.storeUrl } : {}),
    ...(options.patterns ? { patterns: options.patterns } : {}),
    onProgress: (runId, p) =>
      hub.broadcast(runId, {
        type: 'progress',
        run_id: runId,
        stage: stageOf.get(runId) ?? 'execute',
        table: p.table,
        rows_read: p.rowsRead,
        rows_written: p.rowsWritten,
        rows_errored: p.rowsErrored,
        rows_total: p.rowsTotal,
        done: p.done,
      }),
    onRetry: (runId, n) => hub.broadcast(runId, { type: 'retry', run_id: runId, table: n.table, attempt: n.attempt, of: n.of, in_ms: n.inMs, reason: n.reason }),
    onStage: (runId, stage) => {
      stageOf.set(runId, stage);
      hub.broadcast(runId, { type: 'status', run_id: runId, stage, status: 'running' });
    },
  });
  const tokens = createTokenStore(runtime.store.pool);
  // The library the runtime's mapper asks, so that POST /agents/plan proposes what a run would.
  const patterns = options.patterns ?? createPatternLibrary(runtime.store.pool);
  const amani = createAmaniService({
    runtime,
    ...(options.chatModel ? { chatModel: options.chatModel } : {}),
    ...(options.interpreter ? { interpreter: options.interpreter } : {}),
  });
  const app = new Hono();
  const { upgradeWebSocket, injectWebSocket, wss } = createNodeWebSocket({ app });

  const authenticate = async (c: Context, role: Role = 'viewer'): Promise<Stakeholder> => {
    const token = bearer(c);
    const who = token ? await tokens.verify(token) : null;
    if (!who) throw new HTTPException(401, { message: token ? 'invalid or revoked token' : 'missing bearer token: send Authorization: Bearer <token> (sensei token create)' });
    if (!hasRole(who.role, role)) throw new HTTPException(403, { message: `${who.name} is ${who.role}; this needs ${role}` });
    return who;
  };

  /** The `:id` of the request, when the store has that run; else 404. */
  const knownRun = async (c: Context): Promise<string> => {
    const runId = c.req.param('id') ?? '';
    if (!(await runtime.store.getRun(runId))) throw new HTTPException(404, { message: `no run ${runId}` });
    return runId;
  };

  const planMessage = async (runId: string): Promise<ServerMessage | null> => {
    const snap = await runtime.inspect(runId);
    const plan = snap?.state.mappingPlan;
    if (!snap || !plan) return null;
    return { type: 'plan', run_id: runId, plan, pending: snap.request?.pending ?? [], approved: snap.state.approvedKeys ?? [], counts: snap.request?.counts ?? null };
  };

  const statusMessage = (r: { runId: string; stage: string; status: string; certificatePath: string | null }): ServerMessage => ({
    type: 'status',
    run_id: r.runId,
    stage: r.stage,
    status: r.status,
    certificate: r.certificatePath,
  });

  const publish = async (r: RunResult): Promise<void> => {
    stageOf.delete(r.runId);
    hub.broadcast(r.runId, statusMessage(r));
    const plan = await planMessage(r.runId);
    if (plan) hub.broadcast(r.runId, plan);
    if (r.error) hub.broadcast(r.runId, { type: 'error', message: `run ${r.runId} failed: ${describeError(r.error)}` });
  };

  /** The run's planned tables (source and target names), which approvers' scopes are checked against. */
  const tablesOf = async (runId: string) => (await runtime.inspect(runId))?.state.mappingPlan?.tables ?? [];

  /** One stakeholder action, from REST or WebSocket: validated, authorized, applied in turn, broadcast. */
  const act = async (runId: string, who: Stakeholder, raw: unknown): Promise<RunResult> => {
    const action = amani.parseAction(raw, who.name);
    const tables = await tablesOf(runId);
    const verdict = authorize(who, action, tables);
    if ('denied' in verdict) throw new HTTPException(403, { message: `${verdict.denied}; nothing changed` });
    const result = await hub.serialize(runId, () => runtime.resume(runId, verdict.action));
    if (result.reply) hub.broadcast(runId, { type: 'reply', text: result.reply, to: who.name, by: who.name, action: verdict.action });
    await publish(result);
    return result;
  };

  /** The value of a waiver request, or the HTTP error that says why nothing changed. */
  const waiverValue = <T>(r: WaiverOutcome<T>): T => {
    if (r.ok) return r.value;
    const status = { unknown_run: 404, unknown_waiver: 404, denied: 403, refused: 400 } as const;
    throw new HTTPException(status[r.problem], { message: r.message });
  };

  /** One waiver change, from REST, WebSocket or the chat: approved by the token's stakeholder, authorized, broadcast. */
  const changeWaiver = async (runId: string, who: Stakeholder, command: { op: 'add'; body: unknown } | { op: 'revoke'; id: number }): Promise<WaiverView> => {
    const tables = await tablesOf(runId);
    const guard = (table: string | null) => authorizeWaiver(who, table, tables);
    // A viewer is refused before the finding is looked up, whatever it names.
    if (!hasRole(who.role, 'approver')) throw new HTTPException(403, { message: `${guard(null)}; nothing changed` });
    const waiver = waiverValue(
      command.op === 'add' ? await runtime.waivers.add(runId, command.body, who.name, guard) : await runtime.waivers.revoke(runId, command.id, who.name, guard),
    );
    const change = command.op === 'add' ? 'added' : 'revoked';
    hub.broadcast(runId, { type: 'waiver', run_id: runId, change, waiver, by: who.name });
    const what = `${waiver.finding_id} (${waiver.code} at ${waiver.path.join(', ') || 'the run'})`;
    const text =
      command.op === 'add'
        ? `Waiver ${waiver.id} for ${what} approved by ${who.name}: ${waiver.reason}. It applies from the next verification (POST /agents/verify with "certify": true, sensei verify ${runId} --certify, or sensei resume ${runId} after a failed verification).`
        : `Waiver ${waiver.id} for ${what} revoked by ${who.name}.`;
    hub.broadcast(runId, { type: 'reply', text, to: who.name, by: who.name });
    return waiver;
  };
  /** The answer to a WebSocket `findings` message: the run's findings and which of them `who` may waive or revoke. */
  const findingsFor = async (runId: string, who: Stakeholder): Promise<ServerMessage> => {
    const found = waiverValue(await runtime.waivers.findings(runId));
    const tables = await tablesOf(runId);
    const mayWaive = found.findings.filter((f) => authorizeWaiver(who, f.table, tables) === null).map((f) => f.id);
    return { type: 'findings', ...found, may_waive: mayWaive };
  };
  const fromChat = (c: WaiverCommand) => (c.op === 'add' ? { op: 'add' as const, body: { finding: c.finding, reason: c.reason } } : c);

  const chat = async (runId: string, who: Stakeholder, text: string, ws: Listener): Promise<void> => {
    hub.broadcast(runId, { type: 'message', from: who.name, text });
    const turns = await amani.converse(runId, text, who.name);
    if (!turns) return hub.send(ws, { type: 'error', message: `no run ${runId}` });
    for (const turn of turns) {
      if (turn.waiver) {
        await changeWaiver(runId, who, fromChat(turn.waiver));
        continue;
      }
      if (!turn.action) {
        hub.broadcast(runId, { type: 'reply', text: turn.reply, to: who.name });
        continue;
      }
      await act(runId, who, turn.action);
    }
  };

  app.onError((e, c) => {
    if (e instanceof HTTPException) return c.json({ error: e.message }, e.status);
    if (e instanceof RunStateError) return c.json({ error: e.message, hint: e.hint }, 409);
    if (isConfigError(e)) return c.json({ error: e.message, hint: isSenseiError(e) ? e.hint : undefined }, 400);
    return c.json({ error: describeError(e) }, 500);
  });

  app.get('/', (c) => c.html(CONSOLE_HTML));
  app.get('/health', (c) => c.json({ status: 'ok', store: runtime.store.mode }));
  app.get('/openapi.json', (c) => c.json(OPENAPI_DOCUMENT));

  app.get('/runs', async (c) => {
    await authenticate(c);
    const runs = await runtime.store.listRuns();
    return c.json({ runs: runs.map((r) => ({ run_id: r.id, status: r.status, stage: r.stage, created_at: r.createdAt })) });
  });
  app.post('/runs', async (c) => {
    await authenticate(c, 'approver');
    const body = (await c.req.json().catch(() => null)) as { config?: unknown; base_dir?: unknown } | null;
    if (!body || typeof body !== 'object' || body.config === undefined) throw new HTTPException(400, { message: 'send { "config": { source, target, strategy? }, "base_dir"?: "/abs/dir" }' });
    const config = parseConfig(body.config, 'POST /runs config');
    const baseDir = typeof body.base_dir === 'string' ? body.base_dir : (options.baseDir ?? process.cwd());
    const runId = newRunId();
    void hub.serialize(runId, async () => publish(await runtime.start(config, baseDir, { runId }))).catch(() => undefined);
    // Answer once the run exists, so a client may open /ws/runs/:id or GET it right away.
    for (let i = 0; i < 100 && !(await runtime.store.getRun(runId)); i++) await new Promise((ok) => setTimeout(ok, 50));
    return c.json({ run_id: runId, status: 'running' }, 202);
  });
  app.get('/runs/:id', async (c) => {
    await authenticate(c);
    const run = await runtime.store.getRun(c.req.param('id'));
    if (!run) throw new HTTPException(404, { message: `no run ${c.req.param('id')}` });
    const summary = (run.summary ?? {}) as { tables?: unknown[] };
    return c.json({ run_id: run.id, status: run.status, stage: run.stage, tables: summary.tables ?? [], certificate: run.certificatePath, error: run.error });
  });
  app.get('/runs/:id/plan', async (c) => {
    await authenticate(c);
    const plan = await planMessage(c.req.param('id'));
    if (!plan) throw new HTTPException(404, { message: `run ${c.req.param('id')} has no plan` });
    return c.json(plan);
  });
  app.get('/runs/:id/approvals', async (c) => {
    await authenticate(c);
    const runId = await knownRun(c);
    return c.json({ approvals: await runtime.store.listApprovals(runId) });
  });
  app.get('/runs/:id/errors', async (c) => {
    const who = await authenticate(c);
    const runId = await knownRun(c);
    const counts = await runtime.store.countErrors(runId);
    // Queued rows hold source values: only admins see them decrypted.
    if (who.role !== 'admin') return c.json({ run_id: runId, counts });
    return c.json({ run_id: runId, counts, errors: await runtime.store.listErrors(runId) });
  });
  app.get('/runs/:id/certificate', async (c) => {
    await authenticate(c);
    const cert = await runtime.store.getCertificate(c.req.param('id'));
    if (!cert) throw new HTTPException(404, { message: `run ${c.req.param('id')} has no certificate (yet)` });
    return c.body(cert.body, 200, { 'content-type': 'application/json', 'content-disposition': `attachment; filename="${cert.runId}.json"` });
  });
  app.post('/runs/:id/actions', async (c) => {
    const who = await authenticate(c);
    const body = await c.req.json().catch(() => null);
    if (!body || typeof body !== 'object') throw new HTTPException(400, { message: 'send a JSON action, e.g. { "action": "approve", "table": "customers" }' });
    const r = await act(c.req.param('id'), who, body);
    return c.json({ run_id: r.runId, status: r.status, stage: r.stage, reply: r.reply, approval_request: r.approvalRequest });
  });
  app.get('/runs/:id/findings', async (c) => {
    await authenticate(c);
    return c.json(waiverValue(await runtime.waivers.findings(c.req.param('id'))));
  });
  app.get('/runs/:id/waivers', async (c) => {
    await authenticate(c);
    return c.json({ run_id: c.req.param('id'), waivers: waiverValue(await runtime.waivers.list(c.req.param('id'))) });
  });
  app.post('/runs/:id/waivers', async (c) => {
    const who = await authenticate(c, 'approver');
    const body = await c.req.json().catch(() => null);
    if (!body || typeof body !== 'object') throw new HTTPException(400, { message: 'send { "finding": "1a2b3c4d", "reason": "why the difference is acceptable" } (or "code" and "path" instead of "finding")' });
    return c.json({ run_id: c.req.param('id'), waiver: await changeWaiver(c.req.param('id'), who, { op: 'add', body }) }, 201);
  });
  app.delete('/runs/:id/waivers/:waiver', async (c) => {
    const who = await authenticate(c, 'approver');
    const id = Number(c.req.param('waiver'));
    if (!Number.isInteger(id) || id <= 0) throw new HTTPException(400, { message: `waiver id ${c.req.param('waiver')} is not a number; GET /runs/${c.req.param('id')}/waivers lists them` });
    return c.json({ run_id: c.req.param('id'), revoked: await changeWaiver(c.req.param('id'), who, { op: 'revoke', id }) });
  });
  app.post('/agents/:agent', async (c) => {
    await authenticate(c, 'approver');
    const body = await c.req.json().catch(() => null);
    const agent = c.req.param('agent');
    const result = await runAgent(agent, body, { runtime, home: options.home, baseDir: options.baseDir ?? process.cwd(), patterns });
    // A run verified again: its open consoles fetch the new findings (they do at every status message).
    const verified = agent === 'verify' ? await runtime.store.getRun((result as { run_id: string }).run_id) : null;
    if (verified) hub.broadcast(verified.id, statusMessage({ ...verified, runId: verified.id }));
    return c.json(result);
  });

  app.get('/tokens', async (c) => {
    await authenticate(c, 'admin');
    return c.json({ tokens: await tokens.list() });
  });
  app.post('/tokens', async (c) => {
    await authenticate(c, 'admin');
    const created = await tokens.create((await c.req.json().catch(() => ({}))) as never);
    return c.json({ token: created.token, ...created.stakeholder }, 201);
  });
  app.delete('/tokens/:id', async (c) => {
    await authenticate(c, 'admin');
    if (!(await tokens.revoke(c.req.param('id')))) throw new HTTPException(404, { message: `no live token ${c.req.param('id')}` });
    return c.json({ revoked: c.req.param('id') });
  });

  app.get(
    '/ws/runs/:id',
    upgradeWebSocket(async (c) => {
      const runId = c.req.param('id') ?? '';
      const token = bearer(c);
      const who = token ? await tokens.verify(token) : null;
      const run = who ? await runtime.store.getRun(runId) : null;
      let listener: Listener | undefined;
      return {
        onOpen: async (_evt, ws: WSContext) => {
          if (!who) return ws.close(WS_POLICY_VIOLATION, token ? 'invalid or revoked token' : 'missing token');
          if (!run) {
            ws.send(JSON.stringify({ type: 'error', message: `no run ${runId}` } satisfies ServerMessage));
            return ws.close(4404, 'no such run');
          }
          listener = { send: (d) => ws.send(d) };
          hub.join(runId, listener);
          hub.send(listener, statusMessage({ ...run, runId }));
          const plan = await planMessage(runId);
          if (plan) hub.send(listener, plan);
        },
        onMessage: async (evt, ws: WSContext) => {
          if (!who || !listener) return;
          const l = listener;
          const data = typeof evt.data === 'string' ? evt.data : Buffer.from(evt.data as ArrayBuffer).toString('utf8');
          if (Buffer.byteLength(data) > MAX_MESSAGE_BYTES) return hub.send(l, { type: 'error', message: `message too large (over ${MAX_MESSAGE_BYTES} bytes): nothing changed` });
          let json: unknown;
          try {
            json = JSON.parse(data);
          } catch {
            return hub.send(l, { type: 'error', message: 'malformed JSON: send {"type":"message","text":"…"} or {"type":"action","action":"approve",…}; nothing changed' });
          }
          const msg = ClientMessage.safeParse(json);
          if (!msg.success) return hub.send(l, { type: 'error', message: `unknown or invalid message (${msg.error.issues.map((i) => `${i.path.join('.') || 'type'}: ${i.message}`).join('; ')}); nothing changed` });
          // Revocation takes effect on the next message, not only at the next connection.
          if (!(await tokens.verify(token!))) return ws.close(WS_POLICY_VIOLATION, 'token revoked');
          try {
            const m = msg.data;
            if (m.type === 'message') await chat(runId, who, m.text, l);
            else if (m.type === 'findings') hub.send(l, await findingsFor(runId, who));
            else if (m.type === 'waive') {
              const { type: _t, ...body } = m;
              await changeWaiver(runId, who, { op: 'add', body });
            } else if (m.type === 'revoke_waiver') await changeWaiver(runId, who, { op: 'revoke', id: m.waiver_id });
            else {
              const { type: _t, ...action } = m;
              await act(runId, who, action);
            }
          } catch (e) {
            hub.send(l, { type: 'error', message: e instanceof HTTPException ? e.message : describeError(e) });
          }
        },
        onClose: () => {
          if (listener) hub.leave(runId, listener);
        },
      };
    }),
  );

  let closed = false;
  return {
    app,
    runtime,
    tokens,
    hub,
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve) => {
        const server = serve({ fetch: app.fetch, port, hostname: host }, (info: AddressInfo) => {
          resolve({
            port: info.port,
            close: () =>
              new Promise<void>((ok) => {
                // Open WebSockets would keep the HTTP server from closing.
                for (const client of wss.clients) client.terminate();
                server.close(() => ok());
              }),
          });
        });
        injectWebSocket(server);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await hub.idle();
      await runtime.close();
    },
  };
}

