// IR values → PostgreSQL COPY text format, the one encoding every staged row and every source hash uses.
import type { IrValue } from '../../core/batch.js';

/** The text form of a value as staged: what validation rules and the error queue see. NULL stays null. */
export function stagedText(v: IrValue): string | null {
  if (v === null) return null;
  if (Buffer.isBuffer(v)) return `\\x${v.toString('hex')}`;
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
    return String(v);
  }
  return typeof v === 'bigint' ? v.toString() : v;
}

const SPECIAL = /[\\\t\n\r]/;
const escapeSpecial = (c: string): string => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r');

/** The COPY text field for one value: `\N` for NULL, backslash escapes for `\`, tab, newline and carriage return. */
export function copyField(v: IrValue): string {
  // Fast paths for what most values are: strings without special characters and finite numbers.
  if (typeof v === 'string') return SPECIAL.test(v) ? v.replace(/[\\\t\n\r]/g, escapeSpecial) : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  const text = stagedText(v);
  if (text === null) return '\\N';
  // Only the text of bytes (`\x…`) holds a special character among the other kinds.
  return SPECIAL.test(text) ? text.replace(/[\\\t\n\r]/g, escapeSpecial) : text;
}

/** One COPY text line (without the newline). */
export function copyLine(values: readonly IrValue[]): string {
  let line = values.length > 0 ? copyField(values[0]!) : '';
  for (let c = 1; c < values.length; c++) line += `\t${copyField(values[c]!)}`;
  return line;
}

/** PostgreSQL text cannot hold U+0000: such a value is rejected before staging. */
export function hasNulByte(v: IrValue): boolean {
  return typeof v === 'string' && v.includes('\u0000');
}
