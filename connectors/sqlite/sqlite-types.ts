// Maps SQLite declared column types onto Sensei's logical types, following SQLite's type-affinity rules.
import type { LogicalType } from '../../core/catalog.js';

/**
 * The logical type of a SQLite column from its declared type, by SQLite's affinity rules (section 3.1 of
 * https://sqlite.org/datatype3.html), in their order: contains INT → int64; CHAR/CLOB/TEXT → text (varchar(n) when
 * declared with a length); BLOB → bytes, no type → unknown; REAL/FLOA/DOUB → float64; otherwise (NUMERIC affinity)
 * NUMERIC/DECIMAL(p,s) → decimal, BOOLEAN → boolean, DATE → date, DATETIME/TIMESTAMP → timestamp, TIME → time,
 * JSON → json, UUID → uuid, anything else → unknown (values are then read as stored).
 */
export function sqliteLogicalType(declared: string): LogicalType {
  const t = declared.trim().toUpperCase();
  const args = /\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)/.exec(t);
  const first = args?.[1] === undefined ? undefined : Number(args[1]);
  const second = args?.[2] === undefined ? undefined : Number(args[2]);

  if (t.includes('INT')) return { kind: 'int64' };
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) {
    return first !== undefined && first > 0 ? { kind: 'varchar', length: first } : { kind: 'text' };
  }
  if (t.includes('BLOB')) return { kind: 'bytes' };
  if (t === '') return { kind: 'unknown' };
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return { kind: 'float64' };

  const word = /^[A-Z_]+/.exec(t)?.[0] ?? '';
  if (word === 'NUMERIC' || word === 'DECIMAL') {
    if (first === undefined || first <= 0) return { kind: 'decimal' };
    return { kind: 'decimal', precision: first, scale: Math.min(second ?? 0, first) };
  }
  if (word === 'BOOLEAN' || word === 'BOOL') return { kind: 'boolean' };
  if (word === 'DATE') return { kind: 'date' };
  if (word === 'DATETIME' || word === 'TIMESTAMP') return { kind: 'timestamp' };
  if (word === 'TIME') return { kind: 'time' };
  if (word === 'JSON') return { kind: 'json' };
  if (word === 'UUID') return { kind: 'uuid' };
  return { kind: 'unknown' };
}
