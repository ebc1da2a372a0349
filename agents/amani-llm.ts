// AMANI with an LLM: the model reads the message and proposes intents as tool calls (zod schemas); AMANI validates
// them exactly as it validates the deterministic grammar's, so the model can never do more than a stakeholder could.
import { HumanMessage, SystemMessage, type AIMessage } from '@langchain/core/messages';
import type { ChatOpenAI } from '@langchain/openai';
import { z } from 'zod';
import { ErrorPolicy } from '../core/config.js';
import { buildAmaniPrompt } from '../prompts/amani-prompt.js';
import { pendingMappings } from './amani.js';
import type { ConversationContext, IntentInterpreter } from './amani-conversation.js';
import { parseIntent, type Intent } from './amani-grammar.js';

const Name = z.string().min(1).max(200);

export const AMANI_TOOLS = {
  approve_mappings: {
    description: 'Approve mappings that wait: all of them (no arguments), one table, one column of a table, or one band.',
    schema: z.object({ table: Name.optional(), column: Name.optional(), band: z.enum(['review', 'explicit']).optional() }).strict(),
  },
  modify_mapping: {
    description: 'Map a source column to another target column, or give it another transformation (x is the source column).',
    schema: z.object({ table: Name.optional(), column: Name, target_column: Name.optional(), transformation: z.string().min(1).max(4000).optional() }).strict(),
  },
  reject_mappings: {
    description: "Reject a table, one column mapping, or the whole plan, with the stakeholder's reason; the mapper plans again.",
    schema: z.object({ table: Name.optional(), column: Name.optional(), reason: z.string().min(1).max(2000) }).strict(),
  },
  set_strategy: {
    description: 'Set a strategy parameter of the run.',
    schema: z
      .object({
        key: z.enum(['batch_size', 'checkpoint_every', 'auto_approve_above', 'review_above', 'concurrency', 'error_policy']),
        /** A number, or for error_policy: "continue", "stop_on_first" or { "stop_after": N }. */
        value: z.union([z.number(), ErrorPolicy]),
      })
      .strict(),
  },
  abort_run: {
    description: 'Stop the run without writing anything. Only when the stakeholder explicitly asks to stop or cancel.',
    schema: z.object({ reason: z.string().max(2000).optional() }).strict(),
  },
  answer_question: {
    description: 'Answer a question: why a mapping (with column), what is unmapped, the error queue, what happens next, the plan, help, the findings of the latest verification.',
    schema: z.object({ question: z.enum(['why', 'unmapped', 'errors', 'next', 'plan', 'help', 'findings']), table: Name.optional(), column: Name.optional() }).strict(),
  },
  waive_finding: {
    description: "Approve an exception for one finding of the latest verification, by its 8-hex-digit id, with the stakeholder's reason. Only when the stakeholder gave both.",
    schema: z.object({ finding: z.string().regex(/^[0-9a-f]{8}$/i), reason: z.string().min(1).max(2000) }).strict(),
  },
  revoke_waiver: {
    description: 'Withdraw a waiver by its number.',
    schema: z.object({ waiver_id: z.number().int().positive() }).strict(),
  },
} as const;
type ToolName = keyof typeof AMANI_TOOLS;

/** One tool call → one intent; arguments that do not fit the schema become an explanation, never an action. */
export function intentFromToolCall(name: string, args: unknown): Intent {
  const tool = AMANI_TOOLS[name as ToolName];
  if (!tool) return { kind: 'incomplete', hint: `The model asked for an unknown tool "${name}"; I did nothing.` };
  const parsed = tool.schema.safeParse(args);
  if (!parsed.success) {
    return { kind: 'incomplete', hint: `The model proposed ${name} with invalid arguments (${parsed.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('; ')}); I did nothing.` };
  }
  const a = parsed.data as Record<string, unknown>;
  const defined = Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined));
  switch (name as ToolName) {
    case 'approve_mappings':
      return { kind: 'approve', ...defined };
    case 'modify_mapping':
      return { kind: 'modify', ...(defined as { column: string }) };
    case 'reject_mappings':
      return { kind: 'reject', ...(defined as { reason: string }) };
    case 'set_strategy':
      return { kind: 'set_strategy', ...(defined as { key: 'batch_size'; value: number }) } as Intent;
    case 'abort_run':
      return { kind: 'abort', ...defined };
    case 'waive_finding': {
      const w = defined as { finding: string; reason: string };
      return { kind: 'waive', finding: w.finding.toLowerCase(), reason: w.reason };
    }
    case 'revoke_waiver':
      return { kind: 'revoke_waiver', id: (defined as { waiver_id: number }).waiver_id };
    case 'answer_question': {
      const q = defined as { question: 'why' | 'unmapped' | 'errors' | 'next' | 'plan' | 'help' | 'findings'; table?: string; column?: string };
      if (q.question === 'why') {
        return q.column ? { kind: 'ask', question: 'why', column: q.column, ...(q.table ? { table: q.table } : {}) } : { kind: 'incomplete', hint: 'Which column do you mean?' };
      }
      return { kind: 'ask', question: q.question };
    }
  }
}

export function createLlmInterpreter(model: ChatOpenAI): IntentInterpreter {
  const bound = model.bindTools(Object.entries(AMANI_TOOLS).map(([name, t]) => ({ name, description: t.description, schema: t.schema })));
  return {
    readsFindings: true,
    async interpret(message: string, ctx: ConversationContext) {
      const plan = ctx.plan;
      const { system, context } = buildAmaniPrompt({
        runId: ctx.runId,
        status: ctx.status,
        stage: ctx.stage,
        tables: plan?.tables.map((t) => `${t.source} → ${t.target}`) ?? [],
        pending: plan ? pendingMappings(plan, ctx.approvedKeys).map((m) => `${m.sourceTable}.${m.sourceColumn} → ${m.targetTable}.${m.targetColumn} (${m.band}, ${m.confidence.toFixed(2)})`) : [],
        unmapped: plan ? [...plan.unmappedSource, ...plan.unmappedTarget] : [],
        ...(ctx.findings ? { findings: ctx.findings.items.map((f) => `${f.id}: ${f.message}${f.waiver ? ` (waived, waiver ${f.waiver.id})` : ''}`) } : {}),
      });
      let reply: AIMessage;
      try {
        reply = (await bound.invoke([new SystemMessage(`${system}\n\n${context}`), new HumanMessage(message)])) as AIMessage;
      } catch {
        // The model is unreachable or answered nonsense: the documented grammar still works, and guesses nothing.
        return { intents: [parseIntent(message)] };
      }
      const calls = reply.tool_calls ?? [];
      const text = typeof reply.content === 'string' ? reply.content : '';
      return { intents: calls.map((c) => intentFromToolCall(c.name, c.args)), ...(text ? { text } : {}) };
    },
  };
}
