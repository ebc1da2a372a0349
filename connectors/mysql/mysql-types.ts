// Maps MySQL/MariaDB declared column types (information_schema COLUMN_TYPE) onto Sensei's logical types, losslessly.
import type { LogicalType } from '../../core/catalog.js';

export interface MysqlTypeOptions {
  /** The column holds JSON although declared otherwise (MariaDB's JSON is LONGTEXT with a `json_valid` check). Default false. */
  isJson?: boolean;
}

/**
 * The logical type of a MySQL column from its declared `COLUMN_TYPE` (e.g. `int(10) unsigned`, `enum('a','b')`).
 * Unsigned types widen so every value fits (INT UNSIGNED → int64, BIGINT UNSIGNED → decimal(20,0)); TINYINT(1) stays
 * int16 here (the introspector makes it boolean when every stored value is 0 or 1); ENUM/SET become varchar of their
 * longest possible value (ENUM with its members as `values`, SET as `setMembers`); TIME becomes interval (it spans -838:59:59 to
 * 838:59:59); BIT(n) becomes bits(n); spatial types travel as WKT text (see `isSpatialType`).
 */
export function mysqlLogicalType(columnType: string, options: MysqlTypeOptions = {}): LogicalType {
  const declared = columnType.trim().toLowerCase();
  const base = /^[a-z0-9_]+/.exec(declared)?.[0] ?? '';
  const unsigned = /\bunsigned\b/.test(declared);
  const args = /^[a-z0-9_]+\s*\(([^)]*)\)/.exec(declared)?.[1];
  const nums = args === undefined ? [] : args.split(',').map((a) => Number.parseInt(a.trim(), 10));

  if (options.isJson) return { kind: 'json' };
  switch (base) {
    case 'tinyint':
      return { kind: 'int16' };
    case 'smallint':
      return { kind: unsigned ? 'int32' : 'int16' };
    case 'mediumint':
      return { kind: 'int32' };
    case 'int':
    case 'integer':
      return { kind: unsigned ? 'int64' : 'int32' };
    case 'bigint':
      return unsigned ? { kind: 'decimal', precision: 20, scale: 0 } : { kind: 'int64' };
    case 'decimal':
    case 'numeric':
    case 'dec':
    case 'fixed':
      return decimal(nums[0] ?? 10, nums[1] ?? 0);
    case 'float':
      // FLOAT(p) with p > 24 is stored as DOUBLE.
      return { kind: args !== undefined && nums.length === 1 && (nums[0] ?? 0) > 24 ? 'float64' : 'float32' };
    case 'double':
    case 'real':
      return { kind: 'float64' };
    case 'char':
      return withLength('char', nums[0]);
    case 'varchar':
      return withLength('varchar', nums[0]);
    case 'tinytext':
    case 'text':
    case 'mediumtext':
    case 'longtext':
      return { kind: 'text' };
    case 'json':
      return { kind: 'json' };
    case 'date':
      return { kind: 'date' };
    case 'datetime':
      return { kind: 'timestamp' };
    case 'timestamp':
      return { kind: 'timestamptz' };
    case 'time':
      return { kind: 'interval' };
    case 'year':
      return { kind: 'int16' };
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      return { kind: 'bytes' };
    case 'bit':
      return { kind: 'bits', length: Math.max(1, nums[0] ?? 1) };
    case 'enum':
    case 'set': {
      const members = enumMembers(columnType);
      const longest =
        base === 'enum'
          ? Math.max(0, ...members.map(charLength))
          : members.reduce((sum, m) => sum + charLength(m), 0) + Math.max(0, members.length - 1);
      return base === 'enum' ? { ...withLength('varchar', longest), values: members } : { ...withLength('varchar', longest), setMembers: members };
    }
    case 'uuid':
      return { kind: 'uuid' };
    case 'inet4':
      return { kind: 'varchar', length: 15 };
    case 'inet6':
      return { kind: 'varchar', length: 45 };
    default:
      return isSpatialType(base) ? { kind: 'text' } : { kind: 'unknown' };
  }
}

const SPATIAL = new Set(['geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection', 'geomcollection']);

/** Spatial columns are read as WKT (`ST_AsText`), which PostGIS and plain text targets both accept. */
export function isSpatialType(columnType: string): boolean {
  return SPATIAL.has(/^[a-z_]+/.exec(columnType.trim().toLowerCase())?.[0] ?? '');
}

function decimal(precision: number, scale: number): LogicalType {
  return { kind: 'decimal', precision: Math.max(1, precision), scale: Math.max(0, scale) };
}

function withLength(kind: 'char' | 'varchar', length: number | undefined): LogicalType {
  // CHAR(0)/VARCHAR(0) hold only '' or NULL: a length of 1 keeps the target type valid.
  return { kind, length: Math.max(1, Number.isFinite(length) ? (length as number) : 1) };
}

const charLength = (s: string): number => [...s].length;

/** Members of `enum('a','it''s')` / `set(...)` as information_schema prints them (quotes doubled, backslashes escaped). */
export function enumMembers(columnType: string): string[] {
  const inner = /\((.*)\)/s.exec(columnType)?.[1] ?? '';
  const out: string[] = [];
  for (const m of inner.matchAll(/'((?:[^'\\]|''|\\.)*)'/gs)) {
    out.push((m[1] ?? '').replace(/''/g, "'").replace(/\\(.)/gs, '$1'));
  }
  return out;
}
