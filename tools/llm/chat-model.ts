// The one place an LLM client is built: ChatOpenAI against OpenAI or any OpenAI-compatible server, from the environment.
import { ChatOpenAI } from '@langchain/openai';
import { z } from 'zod';

export const LlmSettings = z.object({
  apiKey: z.string().min(1),
  /** Any OpenAI-compatible endpoint (Ollama, vLLM, LM Studio, a test stub). Default: OpenAI. */
  baseUrl: z.string().url().optional(),
  /** Default `gpt-4o-mini`. */
  model: z.string().min(1).default('gpt-4o-mini'),
  /** Per-request timeout in milliseconds. Default 60,000. */
  timeoutMs: z.number().int().positive().default(60_000),
  /** Retries on transport errors. Default 1. */
  maxRetries: z.number().int().nonnegative().default(1),
});
export type LlmSettings = z.infer<typeof LlmSettings>;

/**
 * Reads `OPENAI_API_KEY`, `OPENAI_BASE_URL` and `SENSEI_MODEL`. Returns null when no key is set: every agent then runs
 * deterministically and says so.
 */
export function llmSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): LlmSettings | null {
  if (!env.OPENAI_API_KEY) return null;
  return LlmSettings.parse({
    apiKey: env.OPENAI_API_KEY,
    ...(env.OPENAI_BASE_URL ? { baseUrl: env.OPENAI_BASE_URL } : {}),
    ...(env.SENSEI_MODEL ? { model: env.SENSEI_MODEL } : {}),
  });
}

export function createChatModel(settings: LlmSettings): ChatOpenAI {
  return new ChatOpenAI({
    model: settings.model,
    apiKey: settings.apiKey,
    temperature: 0,
    timeout: settings.timeoutMs,
    maxRetries: settings.maxRetries,
    ...(settings.baseUrl ? { configuration: { baseURL: settings.baseUrl } } : {}),
  });
}

/** A human-readable description of the model in use, without the key. */
export function describeLlm(settings: LlmSettings | null): string {
  if (!settings) return 'no LLM configured (OPENAI_API_KEY unset): deterministic';
  return `${settings.model} at ${settings.baseUrl ?? 'https://api.openai.com/v1'}`;
}
