// The type a column's data actually has (e.g. dates kept as text), read from the distinct values of its sample.
import type { LogicalType } from '../../core/catalog.js';
import { SHARE_CAP, shareOf, type ColumnStats } from './fingerprint.js';
import { BOOLEAN_WORDS, DATE_FORMATS, DECIMAL, INTEGER, TIME, TIMESTAMP, UUID, parseDateIn } from './value-shapes.js';

export interface InferredType {
  type: LogicalType;
  /** The text format when the values are text in one shape (`YYYYMMDD`, `DD/MM/YYYY`, `Y/N`…). */
  format?: string;
}

/** Share of non-null values that must fit a type for it to be inferred. Default 0.98: a few bad rows do not hide it. */
export const TYPE_AGREEMENT = 0.98;

const TEXTUAL = new Set(['char', 'varchar', 'text', 'unknown']);

/**
 * The narrowest type the sampled values fit. Columns declared non-textual keep their declared type (the database
 * already enforces it), except SQLite-style mixed columns, which report their dominant kind.
 */
export function inferType(declared: LogicalType, stats: ColumnStats, agreement = TYPE_AGREEMENT): InferredType {
  const texts = stats.nonNull - stats.binary;
  const textual = TEXTUAL.has(declared.kind) || Object.keys(stats.kinds).length > 1;
  if (!textual || texts === 0) return { type: declared };
  // Shares are measured on a bounded number of distinct values (see SHARE_CAP), as fractions of what was measured.
  const need = agreement;
  const share = (test: (t: string) => boolean) => shareOf(stats, (t) => test(t.trim()), SHARE_CAP * 2);

  const words = new Set<string>();
  for (const t of stats.distinct.keys()) words.add(t.trim().toLowerCase());
  if (words.size <= 2 && [...words].every((w) => BOOLEAN_WORDS.has(w) || w === '0' || w === '1') && [...words].some((w) => BOOLEAN_WORDS.has(w))) {
    return { type: { kind: 'boolean' }, format: [...stats.distinct.keys()].map((t) => t.trim()).sort().reverse().join('/') };
  }
  // Codes with leading zeros ("007") lose them as numbers, and digit strings longer than 15 (card and account
  // numbers) are codes, not quantities: they stay text.
  const leadingZero = share((t) => (t.length > 1 && t[0] === '0' && INTEGER.test(t)) || /^\d{16,}$/.test(t));
  if (leadingZero === 0 && share((t) => INTEGER.test(t)) >= need) {
    let max = 0;
    for (const t of stats.distinct.keys()) max = Math.max(max, Math.abs(Number(t)));
    return { type: { kind: max <= 2_147_483_647 ? (max <= 32_767 ? 'int16' : 'int32') : 'int64' } };
  }
  for (const f of DATE_FORMATS) {
    if (f.format === 'YYYYMMDD' && share((t) => t.length === 8) < need) continue;
    if (share((t) => parseDateIn(t, f.format) !== null) >= need) return { type: { kind: 'date' }, format: f.format };
  }
  if (share((t) => TIMESTAMP.test(t)) >= need) {
    const zoned = share((t) => /(Z|[+-]\d{2}(:?\d{2})?)$/.test(t) && TIMESTAMP.test(t)) >= need;
    return { type: { kind: zoned ? 'timestamptz' : 'timestamp' } };
  }
  if (leadingZero === 0 && share((t) => DECIMAL.test(t)) >= need) {
    let scale = 0;
    let digits = 0;
    for (const t of stats.distinct.keys()) {
      const [i = '', d = ''] = t.trim().replace(/^[+-]/, '').split('.');
      scale = Math.max(scale, d.length);
      digits = Math.max(digits, i.length + d.length);
    }
    if (/[eE]/.test([...stats.distinct.keys()].join(''))) return { type: { kind: 'float64' } };
    return { type: { kind: 'decimal', precision: Math.max(1, Math.min(38, digits)), scale: Math.min(scale, 37) } };
  }
  if (share((t) => TIME.test(t)) >= need) return { type: { kind: 'time' } };
  if (share((t) => UUID.test(t)) >= need) return { type: { kind: 'uuid' } };
  let maxLen = 0;
  for (const t of stats.distinct.keys()) maxLen = Math.max(maxLen, t.length);
  if (declared.kind === 'unknown') return { type: { kind: 'text' } };
  return { type: declared.kind === 'text' || maxLen === 0 ? { kind: 'text' } : { ...declared } };
}
