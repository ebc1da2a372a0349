// The OpenAPI 3.1 document served at /openapi.json.
const bearer = [{ bearer: [] }];
const runId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const ok = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'object' } } } });
const errors = {
  401: { description: 'missing or invalid bearer token' },
  403: { description: 'the token\'s role or tables do not allow this; nothing changed' },
};

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: { title: 'Sensei', version: '0.1.0', description: 'Database migration that proves the result. WebSocket chat with AMANI at /ws/runs/{id}?token=… (see README).' },
  components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  paths: {
    '/health': { get: { summary: 'liveness and store mode', responses: { 200: ok('healthy') } } },
    '/runs': {
      get: { summary: 'recent runs', security: bearer, responses: { 200: ok('runs'), ...errors } },
      post: {
        summary: 'create a run from a config (approver); it runs in the background until done or waiting for approval',
        security: bearer,
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['config'], properties: { config: { type: 'object' }, base_dir: { type: 'string' } } } } } },
        responses: { 202: ok('run accepted: { run_id }'), 400: { description: 'invalid config' }, ...errors },
      },
    },
    '/runs/{id}': { get: { summary: 'status, stage, per-table counts', security: bearer, parameters: [runId], responses: { 200: ok('run'), 404: { description: 'no such run' }, ...errors } } },
    '/runs/{id}/plan': { get: { summary: 'the plan and what waits for approval', security: bearer, parameters: [runId], responses: { 200: ok('plan'), 404: { description: 'no plan' }, ...errors } } },
    '/runs/{id}/approvals': { get: { summary: 'the audit log: who, when, what, before → after (read-only)', security: bearer, parameters: [runId], responses: { 200: ok('audit'), ...errors } } },
    '/runs/{id}/errors': { get: { summary: 'queued rows: counts for everyone, decrypted rows for admins', security: bearer, parameters: [runId], responses: { 200: ok('errors'), ...errors } } },
    '/runs/{id}/certificate': { get: { summary: 'the signed certificate (download)', security: bearer, parameters: [runId], responses: { 200: ok('certificate'), 404: { description: 'not certified' }, ...errors } } },
    '/runs/{id}/actions': {
      post: {
        summary: 'a stakeholder action (approve, modify, reject, set_strategy, abort) — the same as over WebSocket',
        security: bearer,
        parameters: [runId],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['action'] } } } },
        responses: { 200: ok('the run after the action, with AMANI\'s reply'), 400: { description: 'invalid action' }, 409: { description: 'the run is not waiting for approval' }, ...errors },
      },
    },
    '/agents/{agent}': {
      post: {
        summary: 'run one agent: analyze (body { source }), plan (body { source, target }), verify (body { run_id })',
        security: bearer,
        parameters: [{ name: 'agent', in: 'path', required: true, schema: { type: 'string', enum: ['analyze', 'plan', 'verify'] } }],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
        responses: { 200: ok('the agent\'s result'), 400: { description: 'invalid input' }, ...errors },
      },
    },
    '/tokens': {
      get: { summary: 'list tokens (admin)', security: bearer, responses: { 200: ok('tokens'), ...errors } },
      post: { summary: 'issue a token (admin); the token is shown once', security: bearer, responses: { 201: ok('token'), 400: { description: 'invalid' }, ...errors } },
    },
    '/tokens/{id}': { delete: { summary: 'revoke a token (admin)', security: bearer, parameters: [runId], responses: { 200: ok('revoked'), 404: { description: 'no such live token' }, ...errors } } },
  },
} as const;
