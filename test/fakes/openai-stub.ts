// A local OpenAI-compatible chat-completions server for tests: replays scripted replies and records what it was asked.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * One scripted reply. `json` answers a structured-output request in whichever form the client asked for (a tool call
 * when it sent `tools`, message content otherwise); `content` is plain text; `toolCalls` are explicit tool calls;
 * `status` + `body` send a raw HTTP answer (errors, malformed payloads).
 */
export type StubReply =
  | { json: string }
  | { content: string }
  | { toolCalls: { name: string; arguments: string }[]; content?: string }
  | { status: number; body: string };

export interface ChatRequest {
  model: string;
  messages: { role: string; content: unknown; tool_calls?: unknown; tool_call_id?: string }[];
  tools?: { type: string; function: { name: string; parameters: unknown } }[];
  tool_choice?: unknown;
  response_format?: unknown;
  [k: string]: unknown;
}

export interface OpenAiStub {
  /** Base URL to pass as OPENAI_BASE_URL (ends in /v1). */
  url: string;
  /** Every chat request received, in order. */
  requests: ChatRequest[];
  close(): Promise<void>;
}

/** Starts the stub. `script` is a list consumed in order (the last reply repeats) or a function of the request. */
export async function startOpenAiStub(script: StubReply[] | ((req: ChatRequest, index: number) => StubReply)): Promise<OpenAiStub> {
  const requests: ChatRequest[] = [];
  const pick = (req: ChatRequest, i: number): StubReply => {
    if (typeof script === 'function') return script(req, i);
    const r = script[Math.min(i, script.length - 1)];
    if (!r) throw new Error('openai stub: empty script');
    return r;
  };
  const server = createServer((req, res) => {
    void readBody(req).then((raw) => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route ${req.url}` } }));
        return;
      }
      const body = JSON.parse(raw) as ChatRequest;
      const index = requests.push(body) - 1;
      const reply = pick(body, index);
      if ('status' in reply) {
        res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion(body, reply, index)));
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}

function completion(req: ChatRequest, reply: Exclude<StubReply, { status: number }>, index: number): Record<string, unknown> {
  let message: Record<string, unknown>;
  if ('json' in reply) {
    const tool = req.tools?.[0]?.function.name;
    message = tool
      ? { role: 'assistant', content: null, tool_calls: [{ id: `call_${index}`, type: 'function', function: { name: tool, arguments: reply.json } }] }
      : { role: 'assistant', content: reply.json };
  } else if ('toolCalls' in reply) {
    message = {
      role: 'assistant',
      content: reply.content ?? null,
      tool_calls: reply.toolCalls.map((c, i) => ({ id: `call_${index}_${i}`, type: 'function', function: { name: c.name, arguments: c.arguments } })),
    };
  } else {
    message = { role: 'assistant', content: reply.content };
  }
  return {
    id: `chatcmpl-stub-${index}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: req.model,
    choices: [{ index: 0, message, finish_reason: message.tool_calls ? 'tool_calls' : 'stop', logprobs: null }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
}
