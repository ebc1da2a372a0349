// The cast table and what the schema generator makes of it: overrides, defaults, CHECKs for enums, post-load indexes.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Catalog, ColumnDef } from '../../../core/catalog.js';
import { ConfigError } from '../../../core/errors.js';
import { castFor } from '../../../tools/planning/cast-table.js';
import { loadExpressionParser } from '../../../tools/planning/expression-guard.js';
import { generateTargetSchema } from '../../../tools/planning/schema-generator.js';

const col = (name: string, declaredType: string, logicalType: ColumnDef['logicalType'], extra: Partial<ColumnDef> = {}): ColumnDef => ({
  name,
  declaredType,
  logicalType,
  nullable: true,
  defaultValue: null,
  ordinal: 1,
  isGenerated: false,
  ...extra,
});

beforeAll(() => loadExpressionParser());

describe('castFor', () => {
  it('uses the lossless default, an override by table.column, by exact declared type and by base type', () => {
    const dec = col('price', 'decimal(10,2) unsigned', { kind: 'decimal', precision: 10, scale: 2 });
    expect(castFor('mysql', 'items', dec)).toBe('numeric(10,2)');
    expect(castFor('mysql', 'items', dec, { decimal: 'numeric' })).toBe('numeric');
    expect(castFor('mysql', 'items', dec, { 'Items.Price': 'text', decimal: 'numeric' })).toBe('text');
    const flag = col('f', 'tinyint(1)', { kind: 'int16' });
    expect(castFor('mysql', 't', flag, { 'TINYINT(1)': 'boolean' })).toBe('boolean');
    expect(castFor('mysql', 't', flag, { tinyint: 'integer' })).toBe('integer');
    expect(castFor('mysql', 't', col('t', 'time(3)', { kind: 'interval' }), { time: 'time' })).toBe('time');
  });

  it('keeps built-in PostgreSQL types of a PostgreSQL source and falls back to text elsewhere', () => {
    expect(castFor('postgres', 't', col('a', 'integer[]', { kind: 'unknown' }))).toBe('integer[]');
    expect(castFor('postgres', 't', col('a', 'tstzrange', { kind: 'unknown' }))).toBe('tstzrange');
    expect(castFor('postgres', 't', col('a', 'legacy.strange', { kind: 'unknown' }))).toBe('text');
    expect(castFor('mysql', 't', col('a', 'integer[]', { kind: 'unknown' }))).toBe('text');
  });

  it('refuses an override that is not an allowed type, naming it', () => {
    const c = col('a', 'text', { kind: 'text' });
    expect(() => castFor('mysql', 't', c, { text: 'pg_sleep(1)' })).toThrow(ConfigError);
    expect(() => castFor('mysql', 't', c, { text: 'regclass' })).toThrow(/cast override casts\.regclass: "regclass" is not an allowed PostgreSQL type/);
  });
});

describe('generateTargetSchema', () => {
  const source: Catalog = {
    dialect: 'mysql',
    database: 'shop',
    tables: [
      {
        schema: 'shop',
        name: 'Orders',
        columns: [
          col('Id', 'int(11)', { kind: 'int32' }, { nullable: false }),
          col('State', "enum('new','it''s done')", { kind: 'varchar', length: 9, values: ['new', "it's done"] }, { defaultValue: "'new'", ordinal: 2 }),
          col('Qty', 'int(11)', { kind: 'int32' }, { defaultValue: '1', ordinal: 3 }),
          col('Born', 'date', { kind: 'date' }, { defaultValue: "'0000-00-00'", ordinal: 4 }),
          col('Made', 'timestamp', { kind: 'timestamptz' }, { defaultValue: 'current_timestamp()', ordinal: 5 }),
          col('Odd', 'int(11)', { kind: 'int32' }, { defaultValue: '(1 + 2)', ordinal: 6 }),
          col('Note', "varchar(10)", { kind: 'varchar', length: 10 }, { defaultValue: "'a''b\\\\c'", ordinal: 7 }),
          col('Tags', "set('x','it''s')", { kind: 'varchar', length: 6, setMembers: ['x', "it's"] }, { ordinal: 8 }),
        ],
        primaryKey: ['Id'],
        foreignKeys: [],
        uniques: [],
        indexes: [{ name: 'ix', columns: ['State', 'Qty'], unique: false }],
        rowCount: 0,
      },
    ],
  };

  it('writes CHECKs for enums and sets, literal defaults, warns about the rest, and leaves indexes for after the load', () => {
    const g = generateTargetSchema(source, 'public');
    expect(g.ddl[0]).toBe(
      [
        'CREATE TABLE "public"."orders" (',
        '  "id" integer NOT NULL,',
        `  "state" character varying(9) DEFAULT 'new'::character varying(9),`,
        '  "qty" integer DEFAULT 1,',
        '  "born" date,',
        '  "made" timestamp with time zone DEFAULT CURRENT_TIMESTAMP,',
        '  "odd" integer,',
        `  "note" character varying(10) DEFAULT 'a''b\\c'::character varying(10),`,
        `  "tags" character varying(6),`,
        '  PRIMARY KEY ("id"),',
        `  CHECK ("state" IN ('new', 'it''s done')),`,
        `  CHECK ("tags" = '' OR string_to_array("tags", ',') <@ ARRAY['x', 'it''s']::text[])`,
        ')',
      ].join('\n'),
    );
    expect(g.postLoadDdl).toEqual(['CREATE INDEX IF NOT EXISTS "ix_orders_state_qty" ON "public"."orders" ("state", "qty")']);
    expect(g.warnings).toEqual([
      'default of Orders.Born is not carried over (only literals and the current timestamp are): set it on the target if it is needed',
      'default of Orders.Odd is not carried over (only literals and the current timestamp are): set it on the target if it is needed',
    ]);
  });
});
