import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createChatModel, describeLlm, llmSettingsFromEnv } from '../../../tools/llm/chat-model.js';
import { startOpenAiStub, type OpenAiStub } from '../../fakes/openai-stub.js';

let stub: OpenAiStub | undefined;
afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

describe('llmSettingsFromEnv', () => {
  it('is null without OPENAI_API_KEY: agents run deterministically', () => {
    expect(llmSettingsFromEnv({ OPENAI_BASE_URL: 'http://x/v1' })).toBeNull();
    expect(describeLlm(null)).toBe('no LLM configured (OPENAI_API_KEY unset): deterministic');
  });

  it('reads the key, base URL and model, and never shows the key', () => {
    const s = llmSettingsFromEnv({ OPENAI_API_KEY: 'sk-secret', OPENAI_BASE_URL: 'http://127.0.0.1:1/v1', SENSEI_MODEL: 'llama3' });
    expect(s).toMatchObject({ apiKey: 'sk-secret', baseUrl: 'http://127.0.0.1:1/v1', model: 'llama3' });
    expect(describeLlm(s)).toBe('llama3 at http://127.0.0.1:1/v1');
  });

  it('rejects a base URL that is not a URL', () => {
    expect(() => llmSettingsFromEnv({ OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'not a url' })).toThrow(/Invalid URL/i);
  });
});

describe('createChatModel against the local OpenAI-compatible stub', () => {
  const Answer = z.object({ target: z.string(), confidence: z.number() });

  it('returns structured output and sends the model name and messages', async () => {
    stub = await startOpenAiStub([{ json: JSON.stringify({ target: 'customers.full_name', confidence: 0.9 }) }]);
    const model = createChatModel({ apiKey: 'test-key', baseUrl: stub.url, model: 'stub-model', timeoutMs: 5000, maxRetries: 0 });
    const out = await model.withStructuredOutput(Answer).invoke([{ role: 'user', content: 'map CUST_NM' }]);
    expect(out).toEqual({ target: 'customers.full_name', confidence: 0.9 });
    expect(stub.requests).toHaveLength(1);
    expect(stub.requests[0]!.model).toBe('stub-model');
    expect(JSON.stringify(stub.requests[0]!.messages)).toContain('map CUST_NM');
  });

  it('surfaces malformed JSON from the model as an error the caller can catch', async () => {
    stub = await startOpenAiStub([{ json: '{"target": "customers.full_name", "confid' }]);
    const model = createChatModel({ apiKey: 'k', baseUrl: stub.url, model: 'm', timeoutMs: 5000, maxRetries: 0 });
    await expect(model.withStructuredOutput(Answer).invoke('x')).rejects.toThrow();
  });

  it('surfaces an HTTP error from the server', async () => {
    stub = await startOpenAiStub([{ status: 500, body: JSON.stringify({ error: { message: 'model overloaded' } }) }]);
    const model = createChatModel({ apiKey: 'k', baseUrl: stub.url, model: 'm', timeoutMs: 5000, maxRetries: 0 });
    await expect(model.invoke('x')).rejects.toThrow(/model overloaded/);
  });
});
