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

/** The COPY text field for one value: `\N` for NULL, backslash escapes for `\`, tab, newline and carriage return. */
export function copyField(v: IrValue): string {
  const text = stagedText(v);
  if (text === null) return '\\N';
  return text.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** One COPY text line (without the newline). */
export function copyLine(values: readonly IrValue[]): string {
  return values.map(copyField).join('\t');
}

/** PostgreSQL text cannot hold U+0000: such a value is rejected before staging. */
export function hasNulByte(v: IrValue): boolean {
  return typeof v === 'string' && v.includes('\u0000');
}
