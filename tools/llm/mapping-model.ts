// The mapper's narrow model port: one proposal for one column, by ChatOpenAI structured output.
import type { ChatOpenAI } from '@langchain/openai';
import { z } from 'zod';
import type { MappingPrompt } from '../../prompts/mapping-prompt.js';
import { createChatModel, llmSettingsFromEnv } from './chat-model.js';

/** What a model answers for one column. Untrusted: the target is checked against the schema, the SQL against the allow-list. */
export const MappingProposal = z.object({
  /** `table.column` of the target, or null when no candidate fits. */
  target: z.string().nullable(),
  /** PostgreSQL expression over `src`, or null for Sensei's own cast. */
  transformation: z.string().nullable(),
  rationale: z.string(),
  confidence: z.number().min(0).max(1),
});
export type MappingProposal = z.infer<typeof MappingProposal>;

export interface MappingModel {
  /** A description for messages (model and endpoint, never a key). */
  readonly description: string;
  propose(prompt: MappingPrompt): Promise<MappingProposal>;
}

/** The production port: `withStructuredOutput` on ChatOpenAI (tool calling), answers validated with zod. */
export function createOpenAiMappingModel(chat: ChatOpenAI, description: string): MappingModel {
  const structured = chat.withStructuredOutput(MappingProposal, { name: 'propose_mapping' });
  return {
    description,
    async propose(prompt) {
      const out = await structured.invoke([
        { role: 'system', content: prompt.system },
        { role: 'user', content: prompt.user },
      ]);
      return MappingProposal.parse(out);
    },
  };
}

/** The mapping model the environment configures (OPENAI_API_KEY, OPENAI_BASE_URL, SENSEI_MODEL), or null without a key. */
export function mappingModelFromEnv(env: NodeJS.ProcessEnv = process.env): MappingModel | null {
  const settings = llmSettingsFromEnv(env);
  return settings ? createOpenAiMappingModel(createChatModel(settings), settings.model) : null;
}
