// Recognisers for the shapes a column value can take (numbers, dates, e-mail addresses…), shared by typing, fingerprints and semantics.
import type { IrValue } from '../../core/batch.js';

export const INTEGER = /^[+-]?\d+$/;
export const DECIMAL = /^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[A-Za-z]{2,}$/;
export const URL_SHAPE = /^(https?|ftp):\/\/[^\s/$.?#].[^\s]*$|^www\.[^\s]+\.[a-z]{2,}/i;
export const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
export const IPV6 = /^[0-9a-f]{0,4}(:[0-9a-f]{0,4}){2,7}$/i;
/** Telephone-looking text: digits with the usual separators, 7–15 digits. */
export const PHONE_SHAPE = /^\+?[\d\s().\-/]{7,22}$/;
export const BOOLEAN_WORDS = new Set(['true', 'false', 't', 'f', 'y', 'n', 'yes', 'no', 'j', 'oui', 'non']);

/** Date formats recognised in text, in the order they are tried; the key is what `ColumnProfile.format` reports. */
export const DATE_FORMATS: ReadonlyArray<{ format: string; re: RegExp; parts: (m: RegExpMatchArray) => [number, number, number] }> = [
  { format: 'YYYY-MM-DD', re: /^(\d{4})-(\d{2})-(\d{2})$/, parts: (m) => [+m[1]!, +m[2]!, +m[3]!] },
  { format: 'YYYYMMDD', re: /^(\d{4})(\d{2})(\d{2})$/, parts: (m) => [+m[1]!, +m[2]!, +m[3]!] },
  { format: 'DD/MM/YYYY', re: /^(\d{2})\/(\d{2})\/(\d{4})$/, parts: (m) => [+m[3]!, +m[2]!, +m[1]!] },
  { format: 'MM/DD/YYYY', re: /^(\d{2})\/(\d{2})\/(\d{4})$/, parts: (m) => [+m[3]!, +m[1]!, +m[2]!] },
  { format: 'DD.MM.YYYY', re: /^(\d{2})\.(\d{2})\.(\d{4})$/, parts: (m) => [+m[3]!, +m[2]!, +m[1]!] },
  { format: 'YYYY/MM/DD', re: /^(\d{4})\/(\d{2})\/(\d{2})$/, parts: (m) => [+m[1]!, +m[2]!, +m[3]!] },
];
export const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/;
export const TIME = /^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?$/;

export function isValidYmd(y: number, m: number, d: number): boolean {
  if (y < 1000 || y > 2999 || m < 1 || m > 12 || d < 1) return false;
  const days = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return d <= days[m - 1]!;
}

/** The year of `text` when it is a date in `format` (one of DATE_FORMATS), else null. */
export function parseDateIn(text: string, format: string): number | null {
  const f = DATE_FORMATS.find((x) => x.format === format);
  const m = f ? text.match(f.re) : null;
  if (!f || !m) return null;
  const [y, mo, d] = f.parts(m);
  return isValidYmd(y, mo, d) ? y : null;
}

/** The year of a date or timestamp in any recognised form, else null. */
export function dateYear(text: string): number | null {
  const t = text.match(TIMESTAMP);
  if (t) return isValidYmd(+t[1]!, +t[2]!, +t[3]!) ? +t[1]! : null;
  for (const f of DATE_FORMATS) {
    const y = parseDateIn(text, f.format);
    if (y !== null) return y;
  }
  return null;
}

/** A value as the text analysis looks at; null for SQL NULL, `undefined` for binary values (not text). */
export function valueText(v: IrValue): string | null | undefined {
  if (v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return undefined;
}

/** The storage kind of a value (for mixed-kind columns, e.g. SQLite's dynamic typing). */
export function valueKind(v: IrValue): string {
  if (v === null) return 'null';
  if (Buffer.isBuffer(v)) return 'bytes';
  if (typeof v === 'bigint') return 'integer';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'real';
  if (typeof v === 'boolean') return 'boolean';
  return 'text';
}

/**
 * The shape of a text: each upper-case letter becomes `A`, lower-case `a`, digit `9`, everything else stays. Long
 * texts are cut at 24 characters and marked with `…` so that free text does not yield one shape per value.
 */
export function shapeOf(text: string): string {
  let s = '';
  const n = Math.min(text.length, 24);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) s += 'A';
    else if (c >= 97 && c <= 122) s += 'a';
    else if (c >= 48 && c <= 57) s += '9';
    else if (c > 127) s += 'u';
    else s += text[i];
  }
  return text.length > 24 ? `${s}…` : s;
}

/** A numeric value of a value, when it is a number or a text holding one; else null. */
export function numericValue(v: IrValue): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && DECIMAL.test(v.trim())) return Number(v.trim());
  return null;
}
