// What the server asks of AMANI about a run: a stakeholder's action parsed and validated, a chat message answered.
// The application layer between `server/` and `agents/`: the server never reaches into an agent itself.
import type { ChatOpenAI } from '@langchain/openai';
import { createAmani, type StakeholderAction } from '../agents/amani.js';
import { converse, deterministicInterpreter, type ConversationContext, type ConversationTurn, type IntentInterpreter, type WaiverCommand } from '../agents/amani-conversation.js';
import { createLlmInterpreter } from '../agents/amani-llm.js';
import { ConfigError } from '../core/errors.js';
import type { SenseiRuntime } from './runtime.js';

export type { StakeholderAction, ConversationTurn, IntentInterpreter, WaiverCommand };

export interface AmaniServiceDeps {
  runtime: SenseiRuntime;
  /** Reads chat messages with tool calling when given; default AMANI's deterministic grammar. */
  chatModel?: ChatOpenAI;
  /** Overrides how messages are read (e.g. a scripted interpreter); wins over `chatModel`. */
  interpreter?: IntentInterpreter;
}

export interface AmaniService {
  /**
   * A stakeholder action from an untrusted client, acting as `by` whatever the client claims. Throws ConfigError
   * (naming each invalid field) for anything that is not a valid action; nothing changes then.
   */
  parseAction(raw: unknown, by: string): StakeholderAction;
  /** AMANI's answer to a chat message on the run: replies, and the actions it asked for (still to be authorized). */
  converse(runId: string, text: string, by: string): Promise<ConversationTurn[] | null>;
}

export function createAmaniService(deps: AmaniServiceDeps): AmaniService {
  const amani = createAmani();
  const interpreter = deps.interpreter ?? (deps.chatModel ? createLlmInterpreter(deps.chatModel) : deterministicInterpreter);
  const { runtime } = deps;

  const findingsOf = async (runId: string): Promise<ConversationContext['findings']> => {
    const r = await runtime.waivers.findings(runId);
    if (!r.ok || r.value.verified_at === null) return null;
    return {
      verifiedAt: r.value.verified_at,
      passed: r.value.passed ?? false,
      items: r.value.findings.map((f) => ({ id: f.id, message: f.message, waiver: f.waiver ? { id: f.waiver.id, approvedBy: f.waiver.approved_by } : null })),
    };
  };

  const context = async (runId: string): Promise<ConversationContext | null> => {
    const run = await runtime.store.getRun(runId);
    if (!run) return null;
    const snap = await runtime.inspect(runId);
    return {
      runId,
      status: run.status,
      stage: run.stage,
      plan: snap?.state.mappingPlan ?? null,
      approvedKeys: snap?.state.approvedKeys ?? [],
      request: snap?.request ?? null,
      errorCounts: await runtime.store.countErrors(runId),
    };
  };

  return {
    parseAction(raw, by) {
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('an action is a JSON object, e.g. { "action": "approve", "table": "customers" }');
      try {
        return amani.parseAction({ ...raw, by });
      } catch (e) {
        throw new ConfigError((e as Error).message, { hint: 'actions: approve, modify, reject, set_strategy, abort (see the README, WebSocket protocol)' });
      }
    },
    async converse(runId, text, by) {
      const ctx = await context(runId);
      // The findings (the latest verification, decrypted) are read only when the message needs them.
      return ctx ? converse(interpreter, text, ctx, by, () => findingsOf(runId)) : null;
    },
  };
}
