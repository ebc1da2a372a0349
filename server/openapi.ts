// The OpenAPI 3.1 document served at /openapi.json: every route of server/app.ts (a test holds them equal).
const bearer = [{ bearer: [] }];
const runId = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'the run id (run_…)' };
const tokenId = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'the token id (sensei token list)' };
const ok = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'object' } } } });
const errors = {
  401: { description: 'missing, invalid or revoked bearer token' },
  403: { description: "the token's role or tables do not allow this; nothing changed" },
};
const noRun = { 404: { description: 'no such run' } };
const json = (schema: object) => ({ required: true, content: { 'application/json': { schema } } });

const action = {
  type: 'object',
  required: ['action'],
  description: 'A stakeholder action; `by` is always the token holder. Table and column are source or target names.',
  properties: {
    action: { type: 'string', enum: ['approve', 'modify', 'reject', 'set_strategy', 'abort'] },
    table: { type: 'string' },
    column: { type: 'string', description: 'needs table' },
    band: { type: 'string', enum: ['auto', 'review', 'explicit'], description: 'approve only' },
    target_column: { type: 'string', description: 'modify: exactly one of target_column or transformation' },
    transformation: { type: 'string', description: 'modify: a PostgreSQL expression, x is the source column; checked by the SQL allow-list' },
    reason: { type: 'string', description: 'reject (required), abort' },
    batch_size: { type: 'integer' },
    checkpoint_every: { type: 'integer' },
    auto_approve_above: { type: 'number' },
    review_above: { type: 'number' },
    concurrency: { type: 'integer' },
    error_policy: { description: '"continue", "stop_on_first" or { "stop_after": N }' },
  },
};

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: { title: 'Sensei', version: '0.1.0', description: 'Database migration that proves the result. WebSocket chat with AMANI at /ws/runs/{id} (protocol in the README).' },
  components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  paths: {
    '/': { get: { summary: 'the web console (HTML)', responses: { 200: { description: 'the console', content: { 'text/html': { schema: { type: 'string' } } } } } } },
    '/health': { get: { summary: 'liveness and store mode', responses: { 200: ok('healthy') } } },
    '/openapi.json': { get: { summary: 'this document', responses: { 200: ok('OpenAPI 3.1') } } },
    '/runs': {
      get: { summary: 'recent runs', security: bearer, responses: { 200: ok('runs'), ...errors } },
      post: {
        summary: 'create a run from a config (approver); it runs in the background until done or waiting for approval',
        security: bearer,
        requestBody: json({ type: 'object', required: ['config'], properties: { config: { type: 'object', description: 'source, target, strategy… as in sensei.yaml' }, base_dir: { type: 'string' } } }),
        responses: { 202: ok('run accepted: { run_id, status }'), 400: { description: 'invalid config' }, ...errors },
      },
    },
    '/runs/{id}': { get: { summary: 'status, stage, per-table counts', security: bearer, parameters: [runId], responses: { 200: ok('run'), ...noRun, ...errors } } },
    '/runs/{id}/plan': { get: { summary: 'the plan and what waits for approval', security: bearer, parameters: [runId], responses: { 200: ok('plan'), 404: { description: 'no such run, or no plan yet' }, ...errors } } },
    '/runs/{id}/approvals': {
      get: { summary: 'the audit log: who, when, what, before → after (read-only: no route writes it)', security: bearer, parameters: [runId], responses: { 200: ok('audit'), ...noRun, ...errors } },
    },
    '/runs/{id}/errors': {
      get: { summary: 'queued rows: counts for everyone, decrypted rows for admins', security: bearer, parameters: [runId], responses: { 200: ok('errors'), ...noRun, ...errors } },
    },
    '/runs/{id}/certificate': {
      get: {
        summary: 'the signed certificate (download)',
        security: bearer,
        parameters: [runId],
        responses: { 200: ok('certificate'), 404: { description: 'no such run, or not certified (yet)' }, ...errors },
      },
    },
    '/runs/{id}/actions': {
      post: {
        summary: 'a stakeholder action (approve, modify, reject, set_strategy, abort): the same as over WebSocket, broadcast to every connected stakeholder',
        security: bearer,
        parameters: [runId],
        requestBody: json(action),
        responses: {
          200: ok("the run after the action, with AMANI's reply"),
          400: { description: 'invalid action' },
          409: { description: 'the run is not waiting for approval' },
          ...errors,
        },
      },
    },
    '/runs/{id}/findings': {
      get: {
        summary: "the latest verification's findings, each with its id (to waive it by) and the waiver that covers it",
        security: bearer,
        parameters: [runId],
        responses: { 200: ok('{ run_id, verified_at, passed, findings: [{ id, perspective, check, code, path, message, table, waiver }] }'), ...noRun, ...errors },
      },
    },
    '/runs/{id}/waivers': {
      get: { summary: "the run's waivers", security: bearer, parameters: [runId], responses: { 200: ok('{ run_id, waivers }'), ...noRun, ...errors } },
      post: {
        summary: 'waive one finding of the latest verification (approver, within its tables); approved by the token holder, audited, broadcast over WebSocket',
        security: bearer,
        parameters: [runId],
        requestBody: json({
          type: 'object',
          required: ['reason'],
          description: 'the finding by "finding" (its id) or by "code" and "path" (as the verification reports them)',
          properties: { finding: { type: 'string', pattern: '^[0-9a-f]{8}$' }, code: { type: 'string' }, path: { type: 'array', items: { type: 'string' } }, reason: { type: 'string', minLength: 10 } },
        }),
        responses: { 201: ok('{ run_id, waiver }'), 400: { description: 'malformed, no reason, or no such finding in the latest verification' }, ...noRun, ...errors },
      },
    },
    '/runs/{id}/waivers/{waiver}': {
      delete: {
        summary: 'revoke a waiver (approver, within its tables); audited, broadcast over WebSocket',
        security: bearer,
        parameters: [runId, { name: 'waiver', in: 'path', required: true, schema: { type: 'integer' }, description: 'the waiver id' }],
        responses: { 200: ok('{ run_id, revoked }'), 400: { description: 'not a waiver id' }, 404: { description: 'no such run, or no such waiver of it' }, ...errors },
      },
    },
    '/agents/{agent}': {
      post: {
        summary: 'run one agent (approver): analyze (body { source }), plan (body { source, target, strategy? }), verify (body { run_id, certify? }: with certify, a passing run gets its certificate issued again)',
        security: bearer,
        parameters: [{ name: 'agent', in: 'path', required: true, schema: { type: 'string', enum: ['analyze', 'plan', 'verify'] } }],
        requestBody: json({ type: 'object', properties: { source: { type: 'object' }, target: { type: 'object' }, strategy: { type: 'object' }, base_dir: { type: 'string' }, run_id: { type: 'string' }, certify: { type: 'boolean' } } }),
        responses: {
          200: ok("the agent's result: { agent, catalog } | { agent, plan } | { agent, run_id, verification, certificate? }"),
          400: { description: 'invalid input' },
          404: { description: 'no such agent, or (verify) no such run' },
          409: { description: '(verify) the run has not executed yet' },
          ...errors,
        },
      },
    },
    '/tokens': {
      get: { summary: 'list tokens (admin); never the tokens themselves', security: bearer, responses: { 200: ok('tokens'), ...errors } },
      post: {
        summary: 'issue a token (admin); the token is shown once and stored hashed',
        security: bearer,
        requestBody: json({ type: 'object', required: ['name', 'role'], properties: { name: { type: 'string' }, role: { type: 'string', enum: ['viewer', 'approver', 'admin'] }, tables: { type: 'array', items: { type: 'string' } } } }),
        responses: { 201: ok('token'), 400: { description: 'invalid' }, ...errors },
      },
    },
    '/tokens/{id}': { delete: { summary: 'revoke a token (admin)', security: bearer, parameters: [tokenId], responses: { 200: ok('revoked'), 404: { description: 'no such live token' }, ...errors } } },
    '/ws/runs/{id}': {
      get: {
        summary: 'WebSocket: chat with AMANI and act on the run (protocol in the README); token as ?token=… or Authorization: Bearer',
        parameters: [runId, { name: 'token', in: 'query', required: false, schema: { type: 'string' } }],
        responses: {
          101: { description: 'switching protocols; closed with 1008 for a missing, invalid or revoked token, 4404 for an unknown run' },
        },
      },
    },
  },
} as const;
