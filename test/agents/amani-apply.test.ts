// AMANI's modify action: a mapping moved to another target column takes that column's key rules (unique, fk) with it.
import { describe, expect, it } from 'vitest';
import type { Catalog, ColumnDef, LogicalType, TableDef } from '../../core/catalog.js';
import type { StrategyConfig } from '../../core/config.js';
import { applyAction } from '../../agents/amani-apply.js';
import { buildPlan } from '../../tools/planning/build-plan.js';

const col = (name: string, kind: LogicalType['kind'], i: number, declaredType: string): ColumnDef => ({
  name,
  declaredType,
  logicalType: { kind } as LogicalType,
  nullable: i !== 0,
  defaultValue: null,
  ordinal: i + 1,
  isGenerated: false,
});
const table = (name: string, cols: Array<[string, LogicalType['kind'], string]>, rest: Partial<TableDef> = {}): TableDef => ({
  schema: 'public',
  name,
  columns: cols.map(([n, k, d], i) => col(n, k, i, d)),
  primaryKey: [cols[0]![0]],
  foreignKeys: [],
  uniques: [],
  rowCount: null,
  ...rest,
});

const source: Catalog = {
  dialect: 'sqlite',
  database: 'legacy',
  tables: [
    table('customer', [['id', 'int32', 'INTEGER']]),
    table('invoice', [['id', 'int32', 'INTEGER'], ['customer_id', 'int32', 'INTEGER'], ['total', 'int32', 'INTEGER']]),
  ],
};
const target: Catalog = {
  dialect: 'postgres',
  database: 'target',
  tables: [
    table('customer', [['id', 'int32', 'integer']]),
    table('invoice', [['id', 'int32', 'integer'], ['customer_id', 'int32', 'integer'], ['total', 'int32', 'integer'], ['legacy_ref', 'int32', 'integer']], {
      foreignKeys: [{ name: 'invoice_customer_fk', columns: ['customer_id'], refTable: 'customer', refColumns: ['id'] }],
      uniques: [{ name: 'invoice_legacy_ref_key', columns: ['legacy_ref'] }],
    }),
  ],
};

describe('applyAction modify (retarget)', () => {
  const plan = buildPlan({ source, target, targetSchemaSource: 'ddl-file', thresholds: { autoApproveAbove: 0.95, reviewAbove: 0.8 } });
  const ctx = { plan, sourceCatalog: source, plannedTarget: target, strategy: {} as StrategyConfig, approvedKeys: [] };
  const mapping = (p: typeof plan, column: string) => p.tables.find((t) => t.source === 'invoice')!.columns.find((c) => c.sourceColumn === column)!;

  it('drops the old column key rules and takes the new column key rules', async () => {
    expect(mapping(plan, 'customer_id').validationRules.map((r) => r.rule)).toContain('fk');
    const r = await applyAction(ctx, { action: 'modify', by: 'alice', table: 'invoice', column: 'customer_id', target_column: 'legacy_ref' });
    expect(r.outcome, r.reply).toBe('applied');
    const moved = mapping(r.plan, 'customer_id');
    expect(moved).toMatchObject({ targetColumn: 'legacy_ref', origin: 'user' });
    const rules = moved.validationRules.map((v) => v.rule);
    expect(rules).toContain('unique');
    expect(rules).not.toContain('fk');
    expect(moved.validationRules.find((v) => v.rule === 'unique')!.message).toContain('invoice_legacy_ref_key');
  });

  it('refuses a target column the table does not have, and changes nothing', async () => {
    const r = await applyAction(ctx, { action: 'modify', by: 'alice', table: 'invoice', column: 'total', target_column: 'nope' });
    expect(r.outcome).toBe('refused');
    expect(r.reply).toContain('has no column "nope"');
    expect(r.plan).toBe(plan);
  });
});
