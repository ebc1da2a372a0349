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

const BACKSLASH = 0x5c;
/** The letter after the backslash of an escaped tab, newline and carriage return (0 for no escape). */
const ESCAPE_LETTER = new Uint8Array(128);
ESCAPE_LETTER[0x09] = 0x74; // t
ESCAPE_LETTER[0x0a] = 0x6e; // n
ESCAPE_LETTER[0x0d] = 0x72; // r
ESCAPE_LETTER[BACKSLASH] = BACKSLASH;

/**
 * COPY text written as UTF-8 straight into one growing buffer, field by field: for each row the bytes of
 * `Buffer.from(copyLine(values) + '\n')`, without a string per field, per line or per batch (the hot path of execution
 * and of the capture). Rows are numbered in the order they are ended.
 */
export class CopyTextWriter {
  #buf: Buffer;
  #pos = 0;
  #fields = 0;
  /** Where each ended row starts; `#starts[rows]` is where the next one starts. */
  #starts: number[] = [0];

  constructor(capacity = 64 * 1024) {
    this.#buf = Buffer.allocUnsafe(Math.max(64, capacity));
  }

  /** Room for `n` more bytes. */
  #room(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#pos + n));
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }

  #separate(): void {
    if (this.#fields++ > 0) this.#buf[this.#pos++] = 0x09;
  }

  /** Appends one field of the row. Returns true when the value is a string holding U+0000 (written as it is). */
  field(v: IrValue): boolean {
    if (typeof v === 'string') return this.#text(v);
    this.#room(24);
    this.#separate();
    if (typeof v === 'number' && Number.isInteger(v) && v > -2147483648 && v < 2147483648) {
      this.#integer(v);
      return false;
    }
    // Everything else as its escaped text (bytes as hex, the rest numbers and words).
    this.#raw(copyField(v));
    return false;
  }

  /** A whole string's UTF-8 bytes as they are (no escaping). */
  #raw(s: string): void {
    this.#room(3 * s.length);
    this.#pos += this.#buf.write(s, this.#pos, 'utf8');
  }

  #integer(v: number): void {
    const buf = this.#buf;
    if (v < 0) {
      buf[this.#pos++] = 0x2d;
      v = -v;
    }
    // Below 2^31: `| 0` divides exactly.
    let digits = 1;
    for (let x = v; x >= 10; x = (x / 10) | 0) digits++;
    let at = this.#pos + digits;
    this.#pos = at;
    do {
      buf[--at] = 0x30 + (v % 10);
      v = (v / 10) | 0;
    } while (v > 0);
  }

  #text(s: string): boolean {
    const n = s.length;
    // Worst case: every UTF-16 unit 3 bytes of UTF-8, or 2 for an escaped ASCII character.
    this.#room(3 * n + 1);
    this.#separate();
    const buf = this.#buf;
    const start = this.#pos;
    let at = start;
    let nul = false;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        // Not ASCII: the string is written again, escaped as `copyField` does, by Node's UTF-8 encoder (lone
        // surrogates become U+FFFD, as Buffer.from does).
        this.#pos = start;
        this.#raw(copyField(s));
        return nul || s.includes('\u0000', i);
      }
      const letter = ESCAPE_LETTER[c]!;
      if (letter !== 0) {
        buf[at++] = BACKSLASH;
        buf[at++] = letter;
      } else {
        if (c === 0) nul = true;
        buf[at++] = c;
      }
    }
    this.#pos = at;
    return nul;
  }

  /** Ends the row with its newline. */
  endRow(): void {
    this.#room(1);
    this.#buf[this.#pos++] = 0x0a;
    this.#fields = 0;
    this.#starts.push(this.#pos);
  }

  /** Appends ASCII text as it is (not a field: no separator, no escaping). */
  ascii(s: string): void {
    this.#room(s.length);
    this.#pos += this.#buf.write(s, this.#pos, 'latin1');
  }

  /** Appends row `r` of `from`, its newline included, as a row of this writer (after any `ascii` prefix). */
  copyRow(from: CopyTextWriter, r: number): void {
    const row = from.row(r);
    this.#room(row.length);
    this.#pos += row.copy(this.#buf, this.#pos);
    this.#fields = 0;
    this.#starts.push(this.#pos);
  }

  /** Rows ended so far. */
  get rows(): number {
    return this.#starts.length - 1;
  }

  /** Row `r`'s bytes, its newline included (a view: valid until the next write). */
  row(r: number): Buffer {
    return this.#buf.subarray(this.#starts[r], this.#starts[r + 1]);
  }

  /** Row `r`'s line as a string, without its newline. */
  line(r: number): string {
    return this.#buf.toString('utf8', this.#starts[r], this.#starts[r + 1]! - 1);
  }

  /** Every byte written (a view: valid until the next write). */
  bytes(): Buffer {
    return this.#buf.subarray(0, this.#pos);
  }
}
