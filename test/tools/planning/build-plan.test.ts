import { describe, expect, it } from 'vitest';
import type { Catalog, ColumnDef, LogicalType, TableDef } from '../../../core/catalog.js';
import { buildPlan } from '../../../tools/planning/build-plan.js';
import { pgTypeFor } from '../../../tools/planning/pg-types.js';
import { generateTargetSchema } from '../../../tools/planning/schema-generator.js';

const col = (name: string, logicalType: LogicalType, i: number, nullable = true, declaredType: string = logicalType.kind): ColumnDef => ({
  name,
  declaredType,
  logicalType,
  nullable,
  defaultValue: null,
  ordinal: i + 1,
  isGenerated: false,
});
const table = (name: string, cols: Array<[string, LogicalType, boolean?]>, pk: string[], fks: TableDef['foreignKeys'] = []): TableDef => ({
  schema: 's',
  name,
  columns: cols.map(([n, t, nullable], i) => col(n, t, i, nullable ?? true)),
  primaryKey: pk,
  foreignKeys: fks,
  uniques: [],
  rowCount: null,
});
const thresholds = { autoApproveAbove: 0.95, reviewAbove: 0.8 };

const source: Catalog = {
  dialect: 'mysql',
  database: 'legacy',
  tables: [
    table('Customer', [['CustomerId', { kind: 'int32' }, false], ['FirstName', { kind: 'varchar', length: 40 }], ['Balance', { kind: 'decimal', precision: 10, scale: 2 }]], ['CustomerId']),
    table('Invoice', [['InvoiceId', { kind: 'int32' }, false], ['CustomerId', { kind: 'int32' }, false], ['Total', { kind: 'decimal', precision: 10, scale: 2 }]], ['InvoiceId'], [
      { name: 'fk', columns: ['CustomerId'], refTable: 'Customer', refColumns: ['CustomerId'] },
    ]),
  ],
};

describe('generateTargetSchema + buildPlan (generated target)', () => {
  it('generates snake_case tables with lossless types, keys and deferred FKs, and maps them with confidence 1', () => {
    const gen = generateTargetSchema(source, 'public');
    expect(gen.catalog.tables.map((t) => t.name)).toEqual(['customer', 'invoice']);
    expect(gen.catalog.tables[1]!.columns.map((c) => [c.name, c.declaredType, c.nullable])).toEqual([
      ['invoice_id', 'integer', false],
      ['customer_id', 'integer', false],
      ['total', 'numeric(10,2)', true],
    ]);
    expect(gen.ddl[0]).toContain('CREATE TABLE "public"."customer"');
    expect(gen.ddl[0]).toContain('PRIMARY KEY ("customer_id")');
    expect(gen.ddl.at(-1)).toMatch(/ALTER TABLE "public"\."invoice" ADD CONSTRAINT .* FOREIGN KEY \("customer_id"\) REFERENCES "public"\."customer" \("customer_id"\)/);

    const plan = buildPlan({ source, target: gen.catalog, targetSchemaSource: 'generated', targetDdl: gen.ddl, thresholds });
    expect(plan.phases).toEqual([['customer'], ['invoice']]);
    expect(plan.unmappedSource).toEqual([]);
    expect(plan.unmappedTarget).toEqual([]);
    const m = plan.tables[0]!.columns[2]!;
    expect(m).toMatchObject({ sourceColumn: 'Balance', targetColumn: 'balance', confidence: 1, band: 'auto', origin: 'generated', targetType: 'numeric(10,2)' });
    expect(m.transformation).toBe('CAST(src."Balance" AS numeric(10,2))');
    expect(m.validationRules.map((r) => r.rule)).toEqual(['numeric_range']);
    expect(plan.tables[0]!.columns[0]!.validationRules.map((r) => r.rule)).toEqual(['not_null', 'integer_range', 'unique']);
    const fk = plan.tables[1]!.columns.find((c) => c.sourceColumn === 'CustomerId')!;
    expect(fk.validationRules.map((r) => r.rule)).toEqual(['not_null', 'integer_range', 'fk']);
  });

  it('keeps source names when snake_case would make two of them collide', () => {
    const clash: Catalog = { ...source, tables: [table('OrderItem', [['a', { kind: 'int32' }]], []), table('order_item', [['a', { kind: 'int32' }]], [])] };
    expect(generateTargetSchema(clash, 'public').catalog.tables.map((t) => t.name)).toEqual(['OrderItem', 'order_item']);
  });

  it('maps every logical type to the PostgreSQL spelling format_type() prints', () => {
    expect(pgTypeFor({ kind: 'varchar', length: 12 })).toBe('character varying(12)');
    expect(pgTypeFor({ kind: 'decimal', precision: 20, scale: 0 })).toBe('numeric(20,0)');
    expect(pgTypeFor({ kind: 'timestamptz' })).toBe('timestamp with time zone');
    expect(pgTypeFor({ kind: 'bytes' })).toBe('bytea');
  });
});

describe('buildPlan (existing target)', () => {
  const target: Catalog = {
    dialect: 'postgres',
    database: 'public',
    tables: [
      { ...table('customer', [], ['customer_id']), columns: [col('customer_id', { kind: 'int32' }, 0, false, 'integer'), col('given_name', { kind: 'text' }, 1, true, 'text'), col('balance', { kind: 'decimal' }, 2, true, 'numeric(10,2)'), col('created_by', { kind: 'text' }, 3, false, 'text')] },
      { ...table('invoice', [], ['invoice_id']), columns: [col('invoice_id', { kind: 'int32' }, 0, false, 'integer'), col('customer_id', { kind: 'int32' }, 1, false, 'integer'), col('total', { kind: 'text' }, 2, true, 'text')] },
    ],
  };

  it('scores by name and type, bands by threshold, and reports what is left unmapped on both sides', () => {
    const plan = buildPlan({ source, target, targetSchemaSource: 'existing', thresholds });
    const byCol = Object.fromEntries(plan.tables.flatMap((t) => t.columns).map((m) => [`${m.sourceTable}.${m.sourceColumn}`, m]));
    expect(byCol['Customer.CustomerId']).toMatchObject({ targetColumn: 'customer_id', confidence: 0.99, band: 'auto', origin: 'heuristic' });
    expect(byCol['Invoice.Total']).toMatchObject({ targetColumn: 'total', band: 'review' });
    // `given` is a dictionary synonym of `first`.
    expect(byCol['Customer.FirstName']).toMatchObject({ targetColumn: 'given_name', origin: 'heuristic' });
    expect(plan.unmappedSource).toEqual([]);
    expect(plan.unmappedTarget).toEqual(['customer.created_by']);
    expect(plan.warnings.join('\n')).toContain('customer.created_by is NOT NULL without a default');
  });

  it('fails with a clear error when no table matches', () => {
    const other: Catalog = { ...target, tables: [table('zzz_unrelated', [['x', { kind: 'text' }]], [])] };
    expect(() => buildPlan({ source, target: other, targetSchemaSource: 'existing', thresholds })).toThrow(/no source table matches a target table/);
  });
});
