// The evaluation harness on a small case written here (the shared datasets are not part of the project).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findCaseDirs, loadMatchingCase, parseCsv } from '../../bench/matching-case.js';
import { overall, scorePlan } from '../../bench/matching-metrics.js';
import { buildPlan } from '../../tools/planning/build-plan.js';
import { matchSchemas } from '../../tools/planning/matching/match-schemas.js';
import { tempDir } from '../fixtures/databases.js';

const dir = tempDir('sensei-eval-');
afterAll(() => dir.remove());

function writeCase(name: string): string {
  const root = join(dir.path, 'cases', name);
  mkdirSync(join(root, 'target'), { recursive: true });
  writeFileSync(
    join(root, 'source.sql'),
    `CREATE TABLE TBL_CUST (CUST_ID INTEGER PRIMARY KEY, CUST_NM VARCHAR(40), TOWN VARCHAR(40), XYZ VARCHAR(10));
     INSERT INTO TBL_CUST VALUES (1, 'Ada', 'Paris', 'a'), (2, 'Alan', 'Oslo', 'b'), (3, 'Grace', 'Rome', 'c');`,
  );
  writeFileSync(join(root, 'target', 'customers.csv'), 'customer_id,customer_name,city,notes\n1,Ada,Paris,"x, ""quoted"""\n2,Alan,Oslo,\n');
  writeFileSync(
    join(root, 'truth.csv'),
    'source_table,source_column,target_table,target_column\nTBL_CUST,CUST_ID,customers,customer_id\nTBL_CUST,CUST_NM,customers,customer_name\nTBL_CUST,TOWN,customers,city\nTBL_CUST,XYZ,customers,notes\n',
  );
  return root;
}

describe('eval:matching harness', () => {
  it('parses RFC 4180 CSV', () => {
    expect(parseCsv('a,b\n"x, ""y""",\r\n"multi\nline",2')).toEqual([['a', 'b'], ['x, "y"', ''], ['multi\nline', '2']]);
  });

  it('loads a case through real SQLite and CSV, plans it and scores precision, recall, F1, Recall@GT and bands', async () => {
    const root = writeCase('tiny');
    expect(findCaseDirs(join(dir.path, 'cases'))).toEqual([root]);
    const c = await loadMatchingCase(root);
    expect(c.source.tables.map((t) => t.name)).toEqual(['TBL_CUST']);
    expect(c.target.tables[0]!.columns.map((x) => [x.name, x.declaredType])).toEqual([['customer_id', 'bigint'], ['customer_name', 'text'], ['city', 'text'], ['notes', 'text']]);
    expect(c.targetSamples.get('customers.notes')).toEqual(['x, "quoted"']);
    const input = { source: c.source, target: c.target, sourceSamples: c.sourceSamples, targetSamples: c.targetSamples };
    const plan = buildPlan({ ...input, targetSchemaSource: 'existing', thresholds: { autoApproveAbove: 0.95, reviewAbove: 0.8 } });
    const f = scorePlan(plan, c.truth, matchSchemas({ ...input, withRanking: true }).ranking ?? []);
    // XYZ ~ notes has no evidence at all: 3 of 4 found, none wrong.
    expect(f).toMatchObject({ truth: 4, proposed: 3, correct: 3, precision: 1, recall: 0.75 });
    expect(f.f1).toBeCloseTo(6 / 7, 5);
    expect(f.recallAtGt).toBe(0.75);
    expect(f.bands.auto.mappings + f.bands.review.mappings + f.bands.explicit.mappings).toBe(3);
    expect(overall([f, f])).toMatchObject({ truth: 8, proposed: 6, correct: 6, precision: 1, recall: 0.75, recallAtGt: 0.75 });
  });

  it('says clearly when a folder holds no case', () => {
    expect(() => findCaseDirs(join(dir.path, 'nope'))).toThrow(/no such folder/);
  });
});
