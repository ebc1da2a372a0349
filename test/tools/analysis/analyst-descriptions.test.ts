// The graph's schema analyst writes column descriptions with the configured model (statistics only, never a value),
// and keeps the deterministic sentences when there is no model or the model fails. Real runs up to the approval stop.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SenseiConfig } from '../../../core/config.js';
import { createRuntime } from '../../../graph/runtime.js';
import { startOpenAiStub, type ChatRequest, type OpenAiStub, type StubReply } from '../../fakes/openai-stub.js';
import { libraryApprovalRun, recordingPatterns } from '../../fixtures/approval-run.js';
import { tempDir, type TempDatabase } from '../../fixtures/databases.js';
import { libraryRows } from '../../fixtures/library-source.js';

const isDescribe = (req: ChatRequest) => JSON.stringify(req.messages).includes('You document legacy databases');
const tableOf = (req: ChatRequest) => /Table (\w+)/.exec(JSON.stringify(req.messages))![1]!;

/** Descriptions for every column the prompt lists; a harmless "no target" answer to the mapper's questions. */
function answer(req: ChatRequest): StubReply {
  if (!isDescribe(req)) return { json: JSON.stringify({ target: null, transformation: null, rationale: 'stub', confidence: 0 }) };
  const user = String(req.messages.find((m) => m.role === 'user')!.content);
  const names = [...user.matchAll(/^- (\w+):/gm)].map((m) => m[1]!);
  return { json: JSON.stringify({ columns: names.map((n) => ({ name: n, description: `Model text for ${tableOf(req)}.${n}.` })) }) };
}

/** Every text value of the source long enough not to occur in a prompt by chance (names, titles, ISBNs, dates, reviews). */
function sourceValues(): string[] {
  const { authors, books, reviews } = libraryRows();
  const all = [...authors.flatMap((a) => [a.name, a.born]), ...books.flatMap((b) => [b.title, b.price, b.published_at, b.isbn]), ...reviews.flatMap((r) => [r.reviewer, r.body])];
  return [...new Set(all.filter((v): v is string => typeof v === 'string' && v.length >= 4))];
}

describe('schema analyst descriptions in a run', () => {
  const dir = tempDir('sensei-analyst-llm-');
  let config: SenseiConfig;
  let target: TempDatabase;
  let stub: OpenAiStub | undefined;
  const saved = { key: process.env.OPENAI_API_KEY, url: process.env.OPENAI_BASE_URL };

  beforeAll(async () => {
    ({ config, target } = await libraryApprovalRun(dir.path));
  }, 120_000);
  afterEach(async () => {
    for (const [k, v] of [['OPENAI_API_KEY', saved.key], ['OPENAI_BASE_URL', saved.url]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    vi.restoreAllMocks();
    await stub?.close();
    stub = undefined;
  });
  afterAll(async () => {
    await target?.drop();
    dir.remove();
  });

  /** Runs to the approval stop with a runtime built under the current environment; the source catalog's descriptions. */
  async function describedRun(home: string): Promise<Record<string, string>> {
    const rt = await createRuntime({ home: join(dir.path, home), patterns: recordingPatterns() });
    try {
      const run = await rt.start(config, dir.path);
      expect(run.error).toBeNull();
      expect(run.status).toBe('awaiting_approval');
      const { state } = (await rt.inspect(run.runId))!;
      return Object.fromEntries(state.sourceCatalog!.tables.flatMap((t) => t.columns.map((c) => [`${t.name}.${c.name}`, c.profile!.description])));
    } finally {
      await rt.close();
    }
  }

  const useStub = async (script: (req: ChatRequest) => StubReply) => {
    stub = await startOpenAiStub(script);
    process.env.OPENAI_API_KEY = 'test-key';
    process.env.OPENAI_BASE_URL = stub.url;
  };

  it('asks the configured model once per table from names and statistics, never a sample value, and keeps its sentences', async () => {
    await useStub(answer);
    const desc = await describedRun('home-llm');
    const asked = stub!.requests.filter(isDescribe);
    expect(asked.map(tableOf).sort()).toEqual(['authors', 'books', 'reviews']);
    expect(desc['authors.name']).toBe('Model text for authors.name.');
    expect(desc['books.isbn']).toBe('Model text for books.isbn.');
    expect(Object.values(desc).every((d) => d.startsWith('Model text for '))).toBe(true);
    const bodies = JSON.stringify(asked);
    expect(bodies).toContain('semantic type');
    const values = sourceValues();
    expect(values.length).toBeGreaterThan(100);
    expect(values.filter((v) => bodies.includes(JSON.stringify(v).slice(1, -1)))).toEqual([]);
  }, 120_000);

  it('keeps the deterministic sentences and says so when the model fails, as without a model', async () => {
    const errors: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (errors.push(String(chunk)), true));
    await useStub((req) => (isDescribe(req) ? { status: 400, body: JSON.stringify({ error: { message: 'describer refused the request' } }) } : answer(req)));
    const failed = await describedRun('home-failing');
    expect(stub!.requests.filter(isDescribe).length).toBeGreaterThanOrEqual(3);
    expect(errors.join('')).toMatch(/LLM column descriptions failed, deterministic ones kept: .*describer refused the request/);
    vi.restoreAllMocks();
    await stub!.close();
    stub = undefined;

    delete process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_BASE_URL;
    const deterministic = await describedRun('home-none');
    expect(deterministic['authors.born']).toMatch(/^The date of birth "born" of each authors row .*sensitive personal data\.$/);
    expect(failed).toEqual(deterministic);
  }, 120_000);
});
