// A PostgreSQL target schema generated from a source catalog: faithful types, keys and constraints.
import type { Catalog, ColumnDef, TableDef } from '../../core/catalog.js';
import { invalidDateReason } from '../../connectors/source-options.js';
import { castFor, type CastOverrides } from './cast-table.js';
import { checkExpressionSync } from './expression-guard.js';
import { qualified, quoteIdent, quoteLiteral, snakeCase } from './identifiers.js';

export interface GeneratedSchema {
  /** The target as it will be once the DDL ran: planning maps onto it like onto any existing target. */
  catalog: Catalog;
  /** CREATE TABLE statements (with PK, UNIQUE, NOT NULL, CHECK for enums, defaults), then one ALTER TABLE … ADD FOREIGN KEY per FK. */
  ddl: string[];
  /**
   * Run after the load: CREATE INDEX for the source's non-unique indexes, and `setval` of every identity column past
   * the largest key loaded (idempotent, so a resumed run may run them again).
   */
  postLoadDdl: string[];
  /** Source defaults that could not be carried over, and similar notes for the plan. */
  warnings: string[];
}

export interface GenerateSchemaOptions {
  /** Overrides of the cast table (config `casts:`). Default none. */
  casts?: CastOverrides;
}

/**
 * Names become snake_case (`AlbumId` → `album_id`, as PostgreSQL users expect and pgloader does by default) unless two
 * names of one table or schema would collide, in which case the source names are kept verbatim.
 */
export function generateTargetSchema(source: Catalog, schema: string, options: GenerateSchemaOptions = {}): GeneratedSchema {
  const tableNames = uniqueNames(source.tables.map((t) => t.name));
  const warnings: string[] = [];
  const checks = new Map<string, string[]>();
  const tables: TableDef[] = source.tables.map((t) => {
    const colNames = uniqueNames(t.columns.filter((c) => !c.isGenerated).map((c) => c.name));
    const rename = (c: string): string => colNames.get(c) ?? c;
    return {
      schema,
      name: tableNames.get(t.name)!,
      columns: t.columns
        .filter((c) => !c.isGenerated)
        .map((c, i) => {
          const declaredType = castFor(source.dialect, t.name, c, options.casts);
          const check = memberCheck(quoteIdent(rename(c.name)), c, declaredType);
          if (check !== null) checks.set(t.name, [...(checks.get(t.name) ?? []), check]);
          const identity = c.autoIncrement === true && IDENTITY_TYPES.test(declaredType);
          if (c.autoIncrement && !identity) {
            warnings.push(
              `auto-increment of ${t.name}.${c.name} is not carried over: its target type ${declaredType} cannot be an identity column; new rows need their own key (cast it to bigint if every key fits)`,
            );
          }
          // A serial's nextval(...) is the identity's job; a default that would not work on the target is dropped.
          const defaultValue = c.defaultValue === null || c.autoIncrement ? null : pgDefault(c, declaredType);
          if (c.defaultValue !== null && !c.autoIncrement && defaultValue === null && !/^null$/i.test(c.defaultValue.trim())) {
            warnings.push(
              `default of ${t.name}.${c.name} (${c.defaultValue}) is not carried over: Sensei translates literals, the current date and time, UUID generators, constant arithmetic and auto-increment; set it on the target if it is needed`,
            );
          }
          return {
            name: rename(c.name),
            declaredType,
            logicalType: c.logicalType,
            nullable: c.nullable,
            defaultValue,
            ordinal: i + 1,
            isGenerated: false,
            ...(identity ? { autoIncrement: true } : {}),
          };
        }),
      primaryKey: t.primaryKey.map(rename),
      foreignKeys: t.foreignKeys
        .filter((fk) => tableNames.has(fk.refTable))
        .map((fk) => {
          const parent = source.tables.find((p) => p.name === fk.refTable)!;
          const parentCols = uniqueNames(parent.columns.filter((c) => !c.isGenerated).map((c) => c.name));
          return {
            name: snakeCase(`fk_${tableNames.get(t.name)}_${fk.columns.map(rename).join('_')}`).slice(0, 63),
            columns: fk.columns.map(rename),
            refTable: tableNames.get(fk.refTable)!,
            refColumns: fk.refColumns.map((c) => parentCols.get(c) ?? c),
          };
        }),
      uniques: t.uniques.map((u) => ({ name: u.name, columns: u.columns.map(rename) })),
      indexes: (t.indexes ?? [])
        .filter((ix) => ix.columns.every((c) => colNames.has(c)))
        .map((ix) => ({ name: snakeCase(`ix_${tableNames.get(t.name)}_${ix.columns.map(rename).join('_')}`).slice(0, 63), columns: ix.columns.map(rename), unique: false })),
      rowCount: 0,
    };
  });
  const ddl: string[] = [];
  for (const t of tables) {
    const parts = t.columns.map(
      (c) =>
        `${quoteIdent(c.name)} ${c.declaredType}${c.nullable ? '' : ' NOT NULL'}${c.defaultValue === null ? '' : ` DEFAULT ${c.defaultValue}`}${
          // BY DEFAULT: the load writes the source's keys; new rows get the next number.
          c.autoIncrement ? ' GENERATED BY DEFAULT AS IDENTITY' : ''
        }`,
    );
    if (t.primaryKey.length > 0) parts.push(`PRIMARY KEY (${t.primaryKey.map(quoteIdent).join(', ')})`);
    for (const u of t.uniques) parts.push(`UNIQUE (${u.columns.map(quoteIdent).join(', ')})`);
    const src = source.tables[tables.indexOf(t)]!;
    parts.push(...(checks.get(src.name) ?? []));
    ddl.push(`CREATE TABLE ${qualified(schema, t.name)} (\n  ${parts.join(',\n  ')}\n)`);
  }
  for (const t of tables)
    for (const fk of t.foreignKeys) {
      ddl.push(
        `ALTER TABLE ${qualified(schema, t.name)} ADD CONSTRAINT ${quoteIdent(fk.name)} FOREIGN KEY (${fk.columns
          .map(quoteIdent)
          .join(', ')}) REFERENCES ${qualified(schema, fk.refTable)} (${fk.refColumns.map(quoteIdent).join(', ')})`,
      );
    }
  const postLoadDdl = tables.flatMap((t) => [
    ...(t.indexes ?? []).map((ix) => `CREATE INDEX IF NOT EXISTS ${quoteIdent(ix.name)} ON ${qualified(schema, t.name)} (${ix.columns.map(quoteIdent).join(', ')})`),
    ...t.columns.filter((c) => c.autoIncrement).map((c) => identityRestart(qualified(schema, t.name), c.name)),
  ]);
  return { catalog: { dialect: 'postgres', database: schema, tables }, ddl, postLoadDdl, warnings };
}

/**
 * The CHECK that keeps a text column to its declared members: `IN (…)` for an enum; for a SET, every comma-separated
 * part of the value is a member (the empty set is ''). Null when the column has no members or was cast to a non-text
 * type (an override such as a PostgreSQL enum type already constrains it).
 */
function memberCheck(col: string, c: ColumnDef, pgType: string): string | null {
  if (!/^(text|character)/.test(pgType)) return null;
  const { values, setMembers } = c.logicalType;
  if (values && values.length > 0) return `CHECK (${col} IN (${values.map(quoteLiteral).join(', ')}))`;
  if (setMembers && setMembers.length > 0) {
    return `CHECK (${col} = '' OR string_to_array(${col}, ',') <@ ARRAY[${setMembers.map(quoteLiteral).join(', ')}]::text[])`;
  }
  return null;
}

const IDENTITY_TYPES = /^(smallint|integer|bigint)$/;

/**
 * Moves the identity's sequence past the largest key loaded, so the next row the application inserts gets a new key:
 * the next value is max + 1, or 1 for an empty table or one whose keys are all below 1 (never out of range).
 */
function identityRestart(table: string, column: string): string {
  const col = quoteIdent(column);
  return `SELECT setval(pg_get_serial_sequence(${quoteLiteral(table)}, ${quoteLiteral(column)}), GREATEST(COALESCE(max(${col}), 0), 1), COALESCE(max(${col}) >= 1, false)) FROM ${table}`;
}

/**
 * A source default as a PostgreSQL default that works on the target, or null (the caller warns). Literals are
 * re-quoted by Sensei (never pasted) and checked against the target type, so a default cannot smuggle SQL in nor
 * break the CREATE TABLE; functions are translated from a fixed list, never copied.
 */
function pgDefault(c: ColumnDef, pgType: string): string | null {
  let d = (c.defaultValue ?? '').trim();
  // SQLite and MariaDB may wrap an expression in parentheses.
  while (/^\(.*\)$/s.test(d) && balanced(d.slice(1, -1))) d = d.slice(1, -1).trim();
  if (d === '' || /^null$/i.test(d)) return null;
  const fn = d.toLowerCase().replace(/\s+/g, '');
  const isText = /^(text|character)/.test(pgType);
  if (/^(current_timestamp|now|localtimestamp|transaction_timestamp)(\(\d*\))?$|^datetime\('now'\)$/.test(fn)) {
    if (/^timestamp/.test(pgType)) return 'CURRENT_TIMESTAMP';
    if (pgType === 'date') return 'CURRENT_DATE';
    // As SQLite writes it: UTC, to the second.
    if (isText && textFits(19, pgType)) return `to_char(CURRENT_TIMESTAMP AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')`;
    return null;
  }
  if (/^(current_date|curdate)(\(\))?$|^date\('now'\)$/.test(fn)) {
    if (pgType === 'date' || /^timestamp/.test(pgType)) return 'CURRENT_DATE';
    if (isText && textFits(10, pgType)) return `to_char(CURRENT_TIMESTAMP AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;
    return null;
  }
  if (/^(uuid|gen_random_uuid|uuid_generate_v4)\(\)$/.test(fn)) {
    if (pgType === 'uuid') return 'gen_random_uuid()';
    if (isText && textFits(36, pgType)) return 'gen_random_uuid()::text';
    return null;
  }
  const num = /^'?(-?\d+(\.\d+)?([eE][+-]?\d+)?)'?(::[a-z ]+)?$/i.exec(d);
  if (num && NUMERIC_TYPES.test(pgType)) return num[1]!;
  // Constant arithmetic (MariaDB `1 + 2`, PostgreSQL `(2 * 60)`): digits and operators only, then the SQL allow-list.
  if (/^[\d\s.+\-*/()]+$/.test(d) && /\d/.test(d) && NUMERIC_TYPES.test(pgType) && checkExpressionSync(d, { allowedColumns: [] }).ok) {
    return `(${d})`;
  }
  if (pgType === 'boolean' && /^'?[01]'?$/.test(d)) return d.includes('1') ? 'true' : 'false';
  if (pgType === 'boolean' && /^'?(true|false)'?(::boolean)?$/i.test(d)) return /true/i.test(d) ? 'true' : 'false';
  // 'text' as MariaDB and SQLite print it, or 'text'::type as PostgreSQL does.
  const str = /^'((?:[^'\\]|''|\\.)*)'(::[a-z ]+(\(\d+\))?)?$/is.exec(d);
  if (str && /^(text|character|date|time|interval|uuid|json)/.test(pgType)) {
    const value = str[1]!.replace(/''/g, "'").replace(/\\(.)/gs, '$1');
    return literalFits(value, pgType) ? `${quoteLiteral(value)}::${pgType}` : null;
  }
  return null;
}

const NUMERIC_TYPES = /^(smallint|integer|bigint|numeric|real|double)/;

/** Whether PostgreSQL will accept `value` as a constant of `pgType` (it checks defaults when the table is created). */
function literalFits(value: string, pgType: string): boolean {
  if (/^(text|character)/.test(pgType)) return textFits([...value].length, pgType);
  if (pgType === 'date') return /^\d{4}-\d{2}-\d{2}$/.test(value) && invalidDateReason(value) === null;
  if (/^timestamp/.test(pgType)) {
    return /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?( ?([+-]\d{2}(:?\d{2})?|Z))?$/.test(value) && invalidDateReason(value) === null;
  }
  if (/^(time|interval)/.test(pgType)) return /^-?\d{1,3}:[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$/.test(value);
  if (pgType === 'uuid') return /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(value);
  if (/^json/.test(pgType)) {
    try {
      JSON.parse(value);
      return true;
    } catch {
      return false;
    }
  }
  return false;
}

/** A text type holds `chars` characters (`character varying(n)` / `character(n)` up to n; text always). */
function textFits(chars: number, pgType: string): boolean {
  const n = /\((\d+)\)/.exec(pgType)?.[1];
  return n === undefined || chars <= Number(n);
}

/** Parentheses in `s` pair up, so `(a) + (b)` is not taken for one parenthesised expression. */
function balanced(s: string): boolean {
  let depth = 0;
  for (const ch of s) {
    if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

function uniqueNames(names: string[]): Map<string, string> {
  const snake = names.map(snakeCase);
  const collide = new Set(snake).size !== snake.length;
  return new Map(names.map((n, i) => [n, collide ? n : snake[i]!]));
}
