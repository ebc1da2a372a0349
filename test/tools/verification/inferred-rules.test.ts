// Rules inferred from the analysis (semantic types → formats and plausible ranges), checked on a real PostgreSQL
// target with the default 95% threshold: a column within it passes, one beyond it fails with the failing count.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Catalog } from '../../../core/catalog.js';
import type { Plan } from '../../../core/plan.js';
import type { TargetConnector } from '../../../connectors/connector.js';
import { openTarget } from '../../../connectors/open-target.js';
import { INFERRED_RULE_THRESHOLD, inferRules } from '../../../tools/verification/inferred-rules.js';
import { verifyMigration } from '../../../tools/verification/verify-migration.js';
import { createPgDatabase, pgExec, type TempDatabase } from '../../fixtures/databases.js';

const profile = (semanticType: string, semanticConfidence = 0.95) => ({ semanticType, semanticConfidence });
const column = (name: string, p?: ReturnType<typeof profile>) => ({ name, declaredType: 'text', logicalType: 'text', nullable: true, ordinal: 1, ...(p ? { profile: p } : {}) });
const sourceCatalog = {
  dialect: 'mysql',
  tables: [
    {
      schema: 'shop', name: 'People', primaryKey: ['Id'], foreignKeys: [], uniques: [], rowCount: null,
      columns: [column('Id'), column('Mail', profile('email')), column('Born', profile('date_of_birth')), column('Ref', profile('uuid', 0.5)), column('Note', profile('free_text'))],
    },
  ],
} as unknown as Catalog;
const mapping = (s: string, t: string, type: string) => ({ sourceTable: 'People', sourceColumn: s, targetTable: 'people', targetColumn: t, transformation: '', targetType: type, confidence: 1, band: 'auto' as const, origin: 'heuristic' as const, rationale: '', validationRules: [] });
const plan: Plan = {
  tables: [{ source: 'People', target: 'people', confidence: 1, rationale: '', sourceKey: ['Id'], columns: [mapping('Id', 'id', 'integer'), mapping('Mail', 'email', 'text'), mapping('Born', 'born_on', 'date'), mapping('Ref', 'ref', 'text'), mapping('Note', 'note', 'text')] }],
  unmappedSource: [], unmappedTarget: [], phases: [['people']], cyclic: [], targetDdl: [], targetSchemaSource: 'existing',
  thresholds: { autoApproveAbove: 0.95, reviewAbove: 0.8 }, warnings: [],
};

describe('inferred semantic rules', () => {
  let db: TempDatabase;
  let target: TargetConnector;

  beforeAll(async () => {
    db = await createPgDatabase('sensei_v8_inferred');
    await pgExec(db.url, `CREATE TABLE people (id integer PRIMARY KEY, email text, born_on date, ref text, note text);
      INSERT INTO people SELECT g, CASE WHEN g <= 3 THEN 'not an address' WHEN g % 10 = 0 THEN NULL ELSE 'p' || g || '@example.com' END,
        CASE WHEN g <= 10 THEN date '2999-01-01' ELSE date '1980-01-01' + g END, 'x', 'free' FROM generate_series(1, 100) g;`);
    target = await openTarget(db.url);
  }, 60_000);

  afterAll(async () => {
    await target?.close();
    await db?.drop();
  });

  it('infers a rule per confidently classified column with a known shape, none for the rest', () => {
    const rules = inferRules(plan, sourceCatalog);
    expect(rules.map((r) => [r.name, r.threshold])).toEqual([
      ['inferred: e-mail format of people.email', INFERRED_RULE_THRESHOLD],
      ['inferred: plausible date of birth of people.born_on', INFERRED_RULE_THRESHOLD],
    ]);
    expect(rules[0]!.predicate).toMatch(/^t\."email" IS NULL OR /);
    expect(inferRules(plan, null)).toEqual([]);
  });

  it('checks them on the target: 3% bad e-mails pass at 95%, 10% impossible birth dates fail with their count', async () => {
    const report = await verifyMigration(target, {
      plan, plannedTarget: { dialect: 'postgres', tables: [] } as unknown as Catalog, outcomes: [], sourceCatalog,
    });
    const check = report.checks.find((c) => c.check === 'business rules inferred from the analysis');
    expect(check).toMatchObject({ perspective: 'semantic', passed: false, checked: 2 });
    expect(check!.findings).toEqual([
      expect.objectContaining({ code: 'rule_failed', rule: 'inferred: plausible date of birth of people.born_on', failing: 10, passRate: 0.9, threshold: 0.95 }),
    ]);
  });
});
