// The analyze_source tool the schema analyst calls: zod-typed input, a compact summary without fingerprints or values.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlanError } from '../../../core/errors.js';
import { openSource } from '../../../connectors/open-source.js';
import { analysisJson, AnalysisJson, analyzeSource, analyzeSourceTool } from '../../../tools/analysis/analyze-source.js';
import { createLegacySample } from '../../../tools/demo/legacy-sample.js';
import { tempDir } from '../../fixtures/databases.js';

const dir = tempDir('sensei-analyze-tool-');
const legacy = join(dir.path, 'legacy.db');
const empty = join(dir.path, 'empty.db');
beforeAll(() => {
  createLegacySample(legacy);
  new Database(empty).close();
});
afterAll(() => dir.remove());

describe('analyze_source tool', () => {
  it('returns per-column semantics and relationships as JSON, without fingerprints or values', async () => {
    const out = JSON.parse(await analyzeSourceTool.invoke({ url: `sqlite://${legacy}`, sample: 1000 })) as {
      tables: Array<{ name: string; columns: Array<Record<string, unknown>> }>;
      relationships: unknown[];
    };
    const emp = out.tables.find((t) => t.name === 'EMP')!;
    expect(emp.columns.find((c) => c.name === 'EMAIL_ADDR')).toMatchObject({ semantic_type: 'email', pii: 'personal' });
    expect(emp.columns.every((c) => !('fingerprint' in c))).toBe(true);
    expect(out.relationships.length).toBeGreaterThanOrEqual(6);
    expect(JSON.stringify(out)).not.toMatch(/@example\.com/);
  });

  it('rejects input that does not fit its schema', async () => {
    await expect(analyzeSourceTool.invoke({ url: '', sample: 10 } as never)).rejects.toThrow();
    await expect(analyzeSourceTool.invoke({ url: `sqlite://${legacy}`, sample: -1 } as never)).rejects.toThrow();
  });

  it('says so when the source has no tables, and its JSON matches the published schema', async () => {
    const none = await openSource(`sqlite://${empty}`);
    await expect(analyzeSource(none)).rejects.toThrow(PlanError);
    await none.close();
    const src = await openSource(`sqlite://${legacy}`);
    try {
      const report = await analyzeSource(src, { sampleRows: 200 });
      expect(AnalysisJson.safeParse(analysisJson(report.catalog)).success).toBe(true);
      expect(report.timings.structural).toBeGreaterThanOrEqual(0);
    } finally {
      await src.close();
    }
  });
});
