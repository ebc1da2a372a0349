// Sensei logical types → PostgreSQL types, spelled as PostgreSQL's format_type() prints them.
import type { LogicalType } from '../../core/catalog.js';

/**
 * The lossless PostgreSQL type for a logical type. Spellings match `format_type()` so that a planned type and the
 * type read back from the target catalog compare as strings.
 */
export function pgTypeFor(t: LogicalType): string {
  switch (t.kind) {
    case 'boolean':
      return 'boolean';
    case 'int16':
      return 'smallint';
    case 'int32':
      return 'integer';
    case 'int64':
      return 'bigint';
    case 'decimal':
      if (t.precision === undefined) return 'numeric';
      // PostgreSQL caps numeric precision at 1000; MySQL's 65 fits.
      return `numeric(${t.precision},${t.scale ?? 0})`;
    case 'float32':
      return 'real';
    case 'float64':
      return 'double precision';
    case 'char':
      return t.length ? `character(${t.length})` : 'text';
    case 'varchar':
      return t.length ? `character varying(${t.length})` : 'text';
    case 'text':
      return 'text';
    case 'date':
      return 'date';
    case 'time':
      return 'time without time zone';
    case 'timestamp':
      return 'timestamp without time zone';
    case 'timestamptz':
      return 'timestamp with time zone';
    case 'interval':
      return 'interval';
    case 'bytes':
      return 'bytea';
    case 'bits':
      return `bit(${t.length ?? 1})`;
    case 'json':
      return 'jsonb';
    case 'uuid':
      return 'uuid';
    case 'unknown':
      return 'text';
  }
}

/** Family of a PostgreSQL type (format_type spelling), for type-compatibility scoring and validation rules. */
export type PgFamily = 'bool' | 'int' | 'numeric' | 'float' | 'text' | 'date' | 'time' | 'timestamp' | 'bytes' | 'json' | 'uuid' | 'other';

export interface PgTypeInfo {
  family: PgFamily;
  /** smallint/integer/bigint bounds. */
  min?: bigint;
  max?: bigint;
  /** character varying(n)/character(n). */
  length?: number;
  /** numeric(p,s). */
  precision?: number;
  scale?: number;
}

export function pgTypeInfo(pgType: string): PgTypeInfo {
  const t = pgType.toLowerCase().trim();
  if (t === 'boolean') return { family: 'bool' };
  if (t === 'smallint') return { family: 'int', min: -32768n, max: 32767n };
  if (t === 'integer') return { family: 'int', min: -2147483648n, max: 2147483647n };
  if (t === 'bigint') return { family: 'int', min: -9223372036854775808n, max: 9223372036854775807n };
  const num = /^numeric(?:\((\d+),(\d+)\))?$/.exec(t);
  if (num) return num[1] ? { family: 'numeric', precision: Number(num[1]), scale: Number(num[2]) } : { family: 'numeric' };
  if (t === 'real' || t === 'double precision') return { family: 'float' };
  const chr = /^(character varying|character|varchar|char)\((\d+)\)$/.exec(t);
  if (chr) return { family: 'text', length: Number(chr[2]) };
  if (t === 'text' || t === 'character varying' || t === 'citext') return { family: 'text' };
  if (t === 'date') return { family: 'date' };
  if (t.startsWith('time') && !t.startsWith('timestamp')) return { family: 'time' };
  if (t.startsWith('timestamp')) return { family: 'timestamp' };
  if (t === 'bytea') return { family: 'bytes' };
  if (t === 'json' || t === 'jsonb') return { family: 'json' };
  if (t === 'uuid') return { family: 'uuid' };
  return { family: 'other' };
}
