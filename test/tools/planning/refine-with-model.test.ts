// The LLM step end to end: a real SQLite source, a DDL target, ChatOpenAI against the local OpenAI-compatible stub.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Catalog } from '../../../core/catalog.js';
import { FINGERPRINT_DIMENSIONS, type ColumnProfile, type PatternLibrary } from '../../../core/profile.js';
import { allMappings, type ColumnMapping, type Plan } from '../../../core/plan.js';
import type { SourceConnector, TargetConnector } from '../../../connectors/connector.js';
import { openSource } from '../../../connectors/open-source.js';
import { openTarget } from '../../../connectors/open-target.js';
import { createMapper } from '../../../agents/mapper.js';
import { createChatModel } from '../../../tools/llm/chat-model.js';
import { createOpenAiMappingModel } from '../../../tools/llm/mapping-model.js';
import { refineWithModel } from '../../../tools/planning/refine-with-model.js';
import { startOpenAiStub, type ChatRequest, type OpenAiStub, type StubReply } from '../../fakes/openai-stub.js';
import { tempDir } from '../../fixtures/databases.js';

const dir = tempDir('sensei-llm-');
let source: SourceConnector;
let target: TargetConnector;
let catalog: Catalog;
let stub: OpenAiStub | undefined;
const thresholds = { autoApproveAbove: 0.95, reviewAbove: 0.8 };
const ddlPath = join(dir.path, 'target.sql');

beforeAll(async () => {
  const db = new Database(join(dir.path, 'crm.db'));
  db.exec(`CREATE TABLE TBL_CUST (CUST_ID INTEGER PRIMARY KEY, CUST_NM VARCHAR(80), XQ7 VARCHAR(8), ACT_FLG CHAR(1));
    INSERT INTO TBL_CUST VALUES (1, 'Ada Lovelace', '19780202', 'A'), (2, 'Alan Turing', '19120623', 'I'), (3, 'Grace Hopper', '19061209', 'A');`);
  db.close();
  writeFileSync(ddlPath, 'CREATE TABLE customers (customer_id integer PRIMARY KEY, full_name varchar(80), birth_date date, is_active boolean);');
  source = await openSource(`sqlite://${join(dir.path, 'crm.db')}`);
  target = await openTarget('pglite://memory');
  catalog = await source.catalog();
});
afterAll(async () => {
  await source.close();
  await target.close();
  dir.remove();
});
afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

/** Plans with the model answering `reply` for XQ7 (the column no name can place) and null for everything else. */
async function planWith(reply: StubReply): Promise<Plan> {
  const answer = (req: ChatRequest): StubReply =>
    JSON.stringify(req.messages).includes('Source column: TBL_CUST.XQ7') ? reply : { json: JSON.stringify({ target: null, transformation: null, rationale: 'no idea', confidence: 0.1 }) };
  stub = await startOpenAiStub(answer);
  const chat = createChatModel({ apiKey: 'test-key', baseUrl: stub.url, model: 'stub-model', timeoutMs: 10_000, maxRetries: 0 });
  const mapper = createMapper({ model: createOpenAiMappingModel(chat, 'stub-model') });
  return (await mapper.plan({ source: catalog, target, ddlPath, thresholds, sourceConnector: source })).plan;
}

function profileFor(semanticType: string): ColumnProfile {
  const fingerprint = Array.from({ length: FINGERPRINT_DIMENSIONS }, (_, i) => (i === 0 ? 1 : 0));
  return { inferredType: { kind: 'text' }, sampleSize: 3, nullRatio: 0, distinctRatio: 1, fingerprint, semanticType, semanticConfidence: 0.9, pii: 'none', piiConfidence: 0.9, description: 'test' };
}

const mappingOf = (plan: Plan, column: string): ColumnMapping | undefined => allMappings(plan).find((m) => m.sourceColumn === column);

describe('refineWithModel through the mapper', () => {
  it('places a column names cannot, with checked SQL, never in the auto band, and never shows the model a row value', async () => {
    const plan = await planWith({
      json: JSON.stringify({ target: 'customers.birth_date', transformation: `to_date(src."XQ7", 'YYYYMMDD')`, rationale: 'an 8-digit date of birth', confidence: 0.99 }),
    });
    expect(mappingOf(plan, 'XQ7')).toMatchObject({ targetColumn: 'birth_date', origin: 'llm', transformation: `to_date(src."XQ7", 'YYYYMMDD')`, confidence: 0.95, band: 'review' });
    expect(mappingOf(plan, 'XQ7')!.rationale).toContain('LLM (stub-model): an 8-digit date of birth');
    expect(plan.unmappedTarget).not.toContain('customers.birth_date');
    const sent = JSON.stringify(stub!.requests);
    expect(sent).toContain('TBL_CUST.XQ7');
    for (const value of ['Ada Lovelace', '19780202', 'Turing']) expect(sent).not.toContain(value);
  });

  it('survives malformed JSON: the deterministic result stays and a warning names the column', async () => {
    const plan = await planWith({ json: '{"target": "customers.birth_date", "transformation": ' });
    expect(mappingOf(plan, 'XQ7')?.origin).not.toBe('llm');
    expect(mappingOf(plan, 'CUST_NM')).toMatchObject({ targetColumn: 'full_name' });
    expect(plan.warnings.find((w) => w.includes('TBL_CUST.XQ7'))).toMatch(/LLM: no usable answer for TBL_CUST\.XQ7 .*kept the deterministic result/);
  });

  it('ignores an unknown target column and says so', async () => {
    const plan = await planWith({ json: JSON.stringify({ target: 'customers.shoe_size', transformation: null, rationale: 'made up', confidence: 0.9 }) });
    expect(allMappings(plan).some((m) => m.targetColumn === 'shoe_size')).toBe(false);
    expect(plan.warnings).toContain('LLM proposed customers.shoe_size for TBL_CUST.XQ7, which is not a free column of target table customers: ignored');
  });

  it('rejects SQL that fails the allow-list, naming the node, and demotes the mapping to explicit approval', async () => {
    const plan = await planWith({
      json: JSON.stringify({ target: 'customers.birth_date', transformation: `pg_read_file('/etc/passwd')::date`, rationale: 'trust me', confidence: 0.97 }),
    });
    const m = mappingOf(plan, 'XQ7')!;
    expect(m).toMatchObject({ targetColumn: 'birth_date', origin: 'llm', band: 'explicit' });
    expect(m.transformation).not.toContain('pg_read_file');
    expect(m.transformation).toBe(`CAST(to_date(btrim(src."XQ7"), 'YYYYMMDD') AS date)`);
    expect(plan.warnings.join('\n')).toMatch(/LLM transformation for TBL_CUST\.XQ7 → customers\.birth_date rejected by the SQL allow-list: .*pg_read_file/);
  });

  it('asks the pattern library first and drops a pattern whose SQL fails the allow-list, saying so', async () => {
    // The pgvector library (issue 4) is not merged here: a minimal in-test implementation of the PatternLibrary contract.
    const provenance = { runId: 'run_old', approvedBy: 'ana', at: '2026-01-01T00:00:00Z' };
    const base = { sourceTable: 'CUSTOMER', sourceColumn: 'BDAY', semanticType: 'date_of_birth', targetTable: 'customers', targetColumn: 'birth_date', provenance };
    const asked: string[] = [];
    const patterns: PatternLibrary = {
      async search(q) {
        asked.push(`${q.tableName}.${q.columnName}`);
        if (q.columnName !== 'XQ7') return [];
        return [
          { ...base, id: 'p_evil', score: 0.99, transformation: `pg_sleep(10)::text || {{col}}` },
          { ...base, id: 'p_good', score: 0.96, transformation: `to_date({{col}}, 'YYYYMMDD')` },
        ];
      },
      async record() {},
    };
    const profiled: Catalog = {
      ...catalog,
      tables: catalog.tables.map((t) => ({ ...t, columns: t.columns.map((c) => ({ ...c, profile: profileFor(c.name === 'XQ7' ? 'date_of_birth' : 'unknown') })) })),
    };
    const { plan } = await createMapper({ patterns }).plan({ source: profiled, target, ddlPath, thresholds, sourceConnector: source });
    expect(asked).toEqual(['TBL_CUST.CUST_ID', 'TBL_CUST.CUST_NM', 'TBL_CUST.XQ7', 'TBL_CUST.ACT_FLG']);
    expect(mappingOf(plan, 'XQ7')).toMatchObject({ targetColumn: 'birth_date', origin: 'pattern', confidence: 0.96, band: 'auto', transformation: `to_date(src."XQ7", 'YYYYMMDD')` });
    expect(plan.warnings.join('\n')).toMatch(/pattern p_evil for TBL_CUST\.XQ7 ignored: its transformation fails the SQL allow-list \(.*pg_sleep/);
  });

  it('stops asking after maxCalls and says the rest stayed deterministic', async () => {
    const { plan, plannedTarget } = await createMapper().plan({ source: catalog, target, ddlPath, thresholds, sourceConnector: source });
    stub = await startOpenAiStub([{ json: JSON.stringify({ target: null, transformation: null, rationale: 'none fits', confidence: 0.3 }) }]);
    const chat = createChatModel({ apiKey: 'k', baseUrl: stub.url, model: 'stub-model', timeoutMs: 10_000, maxRetries: 0 });
    const refined = await refineWithModel({ plan, source: catalog, target: plannedTarget, model: createOpenAiMappingModel(chat, 'stub-model'), maxCalls: 1 });
    expect(stub.requests).toHaveLength(1);
    expect(refined.warnings).toContain('LLM: stopped after 1 calls; the remaining unsure columns were planned deterministically');
    expect(allMappings(refined)).toEqual(allMappings(plan));
  });

  it('without a model plans deterministically and says so', async () => {
    const { plan } = await createMapper().plan({ source: catalog, target, ddlPath, thresholds, sourceConnector: source });
    expect(allMappings(plan).every((m) => m.origin === 'heuristic')).toBe(true);
    expect(plan.warnings.join('\n')).toContain('no LLM configured (OPENAI_API_KEY unset): the plan was made deterministically');
    expect(mappingOf(plan, 'ACT_FLG')).toMatchObject({ targetColumn: 'is_active', transformation: `CASE upper(btrim(src."ACT_FLG")) WHEN 'A' THEN true WHEN 'I' THEN false END` });
  });
});
