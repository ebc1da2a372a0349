// PostgreSQL declared types (as `format_type` prints them) mapped onto Sensei's logical types.
import type { LogicalType } from '../../core/catalog.js';

const SIMPLE: Readonly<Record<string, LogicalType['kind']>> = {
  smallint: 'int16',
  integer: 'int32',
  bigint: 'int64',
  real: 'float32',
  'double precision': 'float64',
  boolean: 'boolean',
  text: 'text',
  date: 'date',
  bytea: 'bytes',
  json: 'json',
  jsonb: 'json',
  uuid: 'uuid',
};

/**
 * The logical type of a PostgreSQL column from its `format_type(atttypid, atttypmod)` text, e.g. `numeric(12,2)` →
 * `{ kind: 'decimal', precision: 12, scale: 2 }`. Types without a logical counterpart yet (arrays, enums, domains,
 * geometric, network, range types…) map to `unknown`; their values travel as PostgreSQL's text.
 */
export function postgresLogicalType(declaredType: string): LogicalType {
  const t = declaredType.trim().toLowerCase();
  // Arrays print as `integer[]`; their element type must not decide the kind.
  if (t.endsWith(']')) return { kind: 'unknown' };
  const simple = SIMPLE[t];
  if (simple) return { kind: simple };

  const numeric = /^numeric(?:\((\d+)(?:,(-?\d+))?\))?$/.exec(t);
  if (numeric) {
    if (numeric[1] === undefined) return { kind: 'decimal' };
    const precision = Number(numeric[1]);
    const scale = numeric[2] === undefined ? 0 : Number(numeric[2]);
    // PostgreSQL 15 allows a negative scale (rounding left of the point); the logical type cannot say that.
    if (scale < 0) return { kind: 'decimal' };
    return { kind: 'decimal', precision, scale };
  }

  const chars = /^(character varying|character|bpchar)(?:\((\d+)\))?$/.exec(t);
  if (chars) {
    const kind = chars[1] === 'character varying' ? 'varchar' : 'char';
    return chars[2] === undefined ? { kind } : { kind, length: Number(chars[2]) };
  }
  // The internal one-byte type, printed with its quotes.
  if (t === '"char"') return { kind: 'char', length: 1 };

  if (/^time(?:\(\d+\))? with(?:out)? time zone$/.test(t)) return { kind: 'time' };
  if (/^timestamp(?:\(\d+\))? without time zone$/.test(t)) return { kind: 'timestamp' };
  if (/^timestamp(?:\(\d+\))? with time zone$/.test(t)) return { kind: 'timestamptz' };
  if (/^interval\b/.test(t)) return { kind: 'interval' };
  return { kind: 'unknown' };
}
