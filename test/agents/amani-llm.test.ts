// AMANI with an LLM, against the local OpenAI-compatible stub: tool calls become the same validated actions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converse, type ConversationContext } from '../../agents/amani-conversation.js';
import { createLlmInterpreter } from '../../agents/amani-llm.js';
import type { Plan } from '../../core/plan.js';
import { buildAmaniPrompt } from '../../prompts/amani-prompt.js';
import { createChatModel } from '../../tools/llm/chat-model.js';
import { startOpenAiStub, type OpenAiStub, type StubReply } from '../fakes/openai-stub.js';

const plan: Plan = {
  tables: [
    {
      source: 'CUSTOMERS',
      target: 'customers',
      confidence: 0.9,
      rationale: '',
      sourceKey: ['ID'],
      columns: [
        { sourceTable: 'CUSTOMERS', sourceColumn: 'CUST_NM', targetTable: 'customers', targetColumn: 'full_name', transformation: 'src."CUST_NM"', targetType: 'text', confidence: 0.72, band: 'explicit', origin: 'heuristic', rationale: 'shared words', validationRules: [] },
      ],
    },
  ],
  unmappedSource: ['CUSTOMERS.FAX'],
  unmappedTarget: [],
  phases: [['customers']],
  cyclic: [],
  targetDdl: [],
  targetSchemaSource: 'existing',
  thresholds: { autoApproveAbove: 0.95, reviewAbove: 0.8 },
  warnings: [],
};
const ctx: ConversationContext = { runId: 'run_1', status: 'awaiting_approval', stage: 'approve', plan, approvedKeys: [], request: null, errorCounts: {} };

describe('AMANI with an LLM (tool calling)', () => {
  let stub: OpenAiStub;
  const script: StubReply[] = [];
  beforeAll(async () => {
    stub = await startOpenAiStub((_req, i) => script[i] ?? { content: 'nothing more' });
  });
  afterAll(async () => stub?.close());
  const interpreter = () => createLlmInterpreter(createChatModel({ apiKey: 'test-key', baseUrl: stub.url, model: 'stub-model', timeoutMs: 10_000, maxRetries: 0 }));

  it('turns tool calls into validated actions and answers; sends the plan in the prompt with every tool', async () => {
    script.push({ toolCalls: [{ name: 'approve_mappings', arguments: '{"table":"CUSTOMERS","column":"CUST_NM"}' }] });
    const [turn] = await converse(interpreter(), 'looks right to me, go ahead with the customer name', ctx, 'alice');
    expect(turn!.action).toEqual({ action: 'approve', by: 'alice', table: 'CUSTOMERS', column: 'CUST_NM' });
    const sent = stub.requests.at(-1)!;
    expect(sent.tools!.map((t) => t.function.name)).toEqual(['approve_mappings', 'modify_mapping', 'reject_mappings', 'set_strategy', 'abort_run', 'answer_question', 'waive_finding', 'revoke_waiver']);
    expect(JSON.stringify(sent.messages[0]!.content)).toContain('CUSTOMERS.CUST_NM → customers.full_name (explicit, 0.72)');
    expect(sent.messages[1]!.content).toBe('looks right to me, go ahead with the customer name');

    script.push({ toolCalls: [{ name: 'modify_mapping', arguments: '{"column":"CUST_NM","transformation":"initcap(x)"}' }, { name: 'answer_question', arguments: '{"question":"unmapped"}' }] });
    const turns = await converse(interpreter(), 'title-case the name, and what is left unmapped?', ctx, 'alice');
    expect(turns.map((t) => t.action ?? t.reply)).toEqual([
      { action: 'modify', by: 'alice', table: 'CUSTOMERS', column: 'CUST_NM', transformation: 'initcap(x)' },
      'Unmapped source: CUSTOMERS.FAX. Unmapped target: none.',
    ]);
  });

  it('turns waiver tool calls into waiver commands (still to be authorized) and answers with the findings', async () => {
    const verified: ConversationContext = {
      ...ctx,
      status: 'failed',
      stage: 'verify',
      findings: { verifiedAt: '2026-01-01T00:00:00.000Z', passed: false, items: [{ id: '1a2b3c4d', message: 'items (id=77): row differs', waiver: null }] },
    };
    script.push({ toolCalls: [{ name: 'answer_question', arguments: '{"question":"findings"}' }, { name: 'waive_finding', arguments: '{"finding":"1A2B3C4D","reason":"corrected by hand, ticket OPS-12"}' }, { name: 'revoke_waiver', arguments: '{"waiver_id":4}' }] });
    const turns = await converse(interpreter(), 'what failed? waive the changed row, it was corrected by hand (OPS-12), and drop waiver 4', verified, 'alice');
    expect(turns).toEqual([
      { reply: 'The latest verification (2026-01-01T00:00:00.000Z) failed:\n• 1a2b3c4d: items (id=77): row differs\nWaive one with "waive ID because REASON".' },
      { reply: 'Waiving 1a2b3c4d…', waiver: { op: 'add', finding: '1a2b3c4d', reason: 'corrected by hand, ticket OPS-12' } },
      { reply: 'Revoking waiver 4…', waiver: { op: 'revoke', id: 4 } },
    ]);
    // The model sees the findings with their ids (messages name tables and keys, never values).
    expect(JSON.stringify(stub.requests.at(-1)!.messages[0]!.content)).toContain('- 1a2b3c4d: items (id=77): row differs');
    // Left out of the context, the findings are loaded before the model is asked (it resolves "the changed row" from
    // them), once per message.
    let loads = 0;
    const { findings, ...unloaded } = verified;
    script.push({ toolCalls: [{ name: 'answer_question', arguments: '{"question":"plan"}' }] });
    await converse(interpreter(), 'where are we?', unloaded, 'alice', async () => (loads++, findings));
    expect(loads).toBe(1);
    expect(JSON.stringify(stub.requests.at(-1)!.messages[0]!.content)).toContain('- 1a2b3c4d: items (id=77): row differs');
    script.push({ toolCalls: [{ name: 'waive_finding', arguments: '{"finding":"the changed row","reason":""}' }] });
    const [bad] = await converse(interpreter(), 'waive it', verified, 'alice');
    expect(bad!.waiver).toBeUndefined();
    expect(bad!.reply).toMatch(/^The model proposed waive_finding with invalid arguments \(finding: .*reason: /);
  });

  it('never acts on what the model got wrong: invalid arguments, unknown tools, or plain text', async () => {
    script.push({ toolCalls: [{ name: 'set_strategy', arguments: '{"key":"batch_size","value":-5}' }] });
    const [invalid] = await converse(interpreter(), 'make batches smaller', ctx, 'alice');
    expect(invalid!.action).toBeUndefined();
    expect(invalid!.reply).toMatch(/cannot do that: batch_size .*Nothing changed/);

    script.push({ toolCalls: [{ name: 'drop_table', arguments: '{"table":"CUSTOMERS"}' }] });
    const [unknown] = await converse(interpreter(), 'drop it', ctx, 'alice');
    expect(unknown).toEqual({ reply: 'The model asked for an unknown tool "drop_table"; I did nothing.' });

    script.push({ toolCalls: [{ name: 'reject_mappings', arguments: '{"table":"CUSTOMERS"}' }] });
    const [noReason] = await converse(interpreter(), 'reject customers', ctx, 'alice');
    expect(noReason!.action).toBeUndefined();
    expect(noReason!.reply).toMatch(/reject_mappings with invalid arguments \(reason: /);

    // The model failing falls back to the documented grammar.
    script.push({ status: 500, body: '{"error":{"message":"overloaded"}}' });
    const [fallback] = await converse(interpreter(), 'approve all', ctx, 'alice');
    expect(fallback!.action).toEqual({ action: 'approve', by: 'alice' });

    script.push({ content: 'Which table do you mean?' });
    expect(await converse(interpreter(), 'approve the thing', ctx, 'alice')).toEqual([{ reply: 'Which table do you mean?' }]);
  });

  it('the prompt is stable', () => {
    expect(buildAmaniPrompt({ runId: 'run_1', status: 'awaiting_approval', stage: 'approve', tables: ['CUSTOMERS → customers'], pending: ['CUSTOMERS.CUST_NM → customers.full_name (explicit, 0.72)'], unmapped: ['CUSTOMERS.FAX'] })).toMatchSnapshot();
  });
});
