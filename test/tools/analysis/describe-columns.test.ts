// Business-meaning descriptions: by the model from statistics only (through the OpenAI-compatible stub), else deterministic.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openSource } from '../../../connectors/open-source.js';
import { createDeterministicDescriber, createLlmDescriber } from '../../../tools/analysis/describe-columns.js';
import { profileCatalog } from '../../../tools/analysis/profile-catalog.js';
import { createChatModel } from '../../../tools/llm/chat-model.js';
import { buildDescribeColumnsPrompt } from '../../../prompts/describe-columns.js';
import { startOpenAiStub, type OpenAiStub } from '../../fakes/openai-stub.js';
import { tempDir } from '../../fixtures/databases.js';

const dir = tempDir('sensei-describe-');
const file = join(dir.path, 'people.db');
beforeAll(() => {
  const db = new Database(file);
  db.exec('CREATE TABLE PERSON (ID INTEGER PRIMARY KEY, GIVEN_NM TEXT, EMAIL TEXT, BORN TEXT)');
  const ins = db.prepare('INSERT INTO PERSON VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= 50; i++) ins.run(i, ['Wilhelmina', 'Bartholomew', 'Ottoline'][i % 3], `wilhelmina.${i}@secret-domain.de`, `19${60 + (i % 30)}-0${1 + (i % 9)}-1${i % 9}`);
  })();
  db.close();
});
let stub: OpenAiStub | undefined;
afterEach(async () => {
  await stub?.close();
  stub = undefined;
});
afterAll(() => dir.remove());

const model = (url: string) => createChatModel({ apiKey: 'k', baseUrl: url, model: 'stub', timeoutMs: 5000, maxRetries: 0 });

async function profileWith(describer: Parameters<typeof profileCatalog>[2]) {
  const source = await openSource(`sqlite://${file}`);
  try {
    return (await profileCatalog(source, await source.catalog({ withCounts: true }), describer)).catalog.tables[0]!.columns;
  } finally {
    await source.close();
  }
}

describe('column descriptions', () => {
  it('asks the model with names and statistics only, never a value, and uses its sentences', async () => {
    stub = await startOpenAiStub([
      { json: JSON.stringify({ columns: [{ name: 'GIVEN_NM', description: 'The first name the person goes by.' }, { name: 'BORN', description: 'Date the person was born.' }] }) },
    ]);
    const columns = await profileWith({ describer: createLlmDescriber(model(stub.url)) });
    expect(stub.requests).toHaveLength(1);
    const sent = JSON.stringify(stub.requests[0]!.messages);
    expect(sent).toContain('GIVEN_NM');
    expect(sent).toContain('given_name');
    expect(sent).toMatch(/date_of_birth/);
    expect(sent).not.toMatch(/Wilhelmina|Bartholomew|Ottoline|secret-domain|19\d\d-0\d/);
    const desc = Object.fromEntries(columns.map((c) => [c.name, c.profile!.description]));
    expect(desc.GIVEN_NM).toBe('The first name the person goes by.');
    expect(desc.BORN).toBe('Date the person was born.');
    // A column the model left out keeps the deterministic sentence.
    expect(desc.EMAIL).toMatch(/e-mail address "email" of each person row .*personal data/);
  });

  it('falls back to deterministic sentences and reports the failure when the model errs', async () => {
    stub = await startOpenAiStub([{ status: 500, body: JSON.stringify({ error: { message: 'model overloaded' } }) }]);
    const errors: string[] = [];
    const columns = await profileWith({ describer: createLlmDescriber(model(stub.url), (e) => errors.push((e as Error).message)) });
    expect(errors.join()).toMatch(/model overloaded/);
    const deterministic = await profileWith({ describer: createDeterministicDescriber() });
    expect(columns.map((c) => c.profile!.description)).toEqual(deterministic.map((c) => c.profile!.description));
    expect(deterministic.find((c) => c.name === 'BORN')!.profile!.description).toBe(
      'The date of birth "born" of each person row (date in YYYY-MM-DD form); sensitive personal data.',
    );
  });

  it('builds the prompt from the summary alone', () => {
    expect(
      buildDescribeColumnsPrompt({
        table: 'EMP',
        rows: 10,
        columns: [{ name: 'HIRE_DT', declaredType: 'TEXT', inferredType: 'date', semanticType: 'date', pii: 'none', nullRatio: 0.1, distinctRatio: 0.9, format: 'DD/MM/YYYY' }],
      })[1]!.content,
    ).toBe('Table EMP (10 rows). Columns:\n- HIRE_DT: declared TEXT, data looks like date (DD/MM/YYYY), semantic type date, PII none, 10% null, 90% distinct');
  });
});
