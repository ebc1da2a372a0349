// Read a certificate's row-hash file as a stream: gunzip over its members and an incremental parse of its known
// canonical-JSON layout, so that memory holds one bucket's rows at a time, never the file.
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { CertificateError } from '../../core/errors.js';
import type { TargetRowHash } from '../verification/compare-capture.js';
import type { BucketDigest } from '../verification/row-digest.js';
import { ROW_HASH_DIGITS, type RowHashFormat } from './row-hash-file.js';

/**
 * One bucket of a table in the row-hash file: its rows as the file lists them, `[bucket, key, rowHash]`, in row-hash
 * order; `rowHash` has the reader's `rowHashDigits` hex digits.
 */
export interface RowHashBucket {
  bucket: number;
  rows: TargetRowHash[];
}

/** One table of the row-hash file, read front to back. */
export interface RowHashTable {
  buckets: number;
  digests: BucketDigest[];
  /** The next bucket that has rows (in ascending bucket order); null after the table's last. */
  nextBucket(): Promise<RowHashBucket | null>;
  /** Skip what is left of the table's rows and return its target table name (the file lists it after the rows). */
  end(): Promise<string>;
}

export interface RowHashReader {
  runId: string;
  format: RowHashFormat;
  /** Hex digits of each row's md5 the file holds: 32 (format /2), or 16 (format /1: the first 64 bits). */
  rowHashDigits: 16 | 32;
  /** The next table, once the previous one has been `end`ed; null after the file's last table. */
  nextTable(): Promise<RowHashTable | null>;
  /** Stop reading (also after an error); idempotent. */
  close(): void;
}

const MD5_HEX = /^[0-9a-f]{32}$/;
const ROW_HASH = { 16: /^[0-9a-f]{16}$/, 32: MD5_HEX } as const;

/**
 * Open the row-hash file at `path` (format `sensei-row-hashes/2`, or `/1` as written before it; see `openRowHashFile`)
 * for one pass. The file's integrity is the caller's business (its sha256 is in the certificate); what is read here is
 * checked against the layout the writer produces, and a truncated or damaged file (one out of bucket order, or whose
 * row hashes are not as long as its format says) throws a CertificateError naming the file, as does a format this
 * Sensei does not read.
 */
export async function openRowHashReader(path: string): Promise<RowHashReader> {
  const file = createReadStream(path);
  const gunzip = createGunzip();
  file.on('error', (e) => gunzip.destroy(e));
  file.pipe(gunzip);
  gunzip.setEncoding('utf8');
  const text = new TextCursor(gunzip[Symbol.asyncIterator]() as AsyncIterator<string>, path);
  const close = (): void => {
    file.destroy();
    gunzip.destroy();
  };
  try {
    await text.expect('{"format":');
    const format = await text.value();
    if (typeof format !== 'string') throw text.damaged('its format is not a string');
    if (!Object.hasOwn(ROW_HASH_DIGITS, format)) {
      throw new CertificateError(`the row-hash file ${path} has format ${JSON.stringify(format)}, which this Sensei does not read (it reads ${Object.keys(ROW_HASH_DIGITS).join(', ')})`, {
        hint: 'check the certificate with the Sensei version that issued it, or a newer one',
      });
    }
    const digits = ROW_HASH_DIGITS[format as RowHashFormat];
    await text.expect(',"run_id":');
    const runId = await text.value();
    if (typeof runId !== 'string') throw text.damaged('run_id is not a string');
    await text.expect(',"tables":[');
    let state: 'between' | 'in-table' | 'done' = 'between';
    let tables = 0;
    const reader: RowHashReader = {
      runId,
      format: format as RowHashFormat,
      rowHashDigits: digits,
      async nextTable() {
        if (state === 'in-table') throw new Error('row-hash reader: end() the table before asking for the next one');
        if (state === 'done') return null;
        if ((await text.peek()) === ']') {
          await text.expect(']}');
          await text.atEnd();
          state = 'done';
          return null;
        }
        if (tables > 0) await text.expect(',');
        await text.expect('{"buckets":');
        const buckets = await text.value();
        if (!Number.isSafeInteger(buckets) || (buckets as number) < 1) throw text.damaged('a table\'s bucket count is not a positive integer');
        await text.expect(',"digests":');
        const digests = readDigests(await text.value(), text);
        await text.expect(',"rows":[');
        state = 'in-table';
        tables++;
        return tableReader(text, { buckets: buckets as number, digests, digits, format: format as RowHashFormat, ordinal: tables }, () => (state = 'between'));
      },
      close,
    };
    return reader;
  } catch (e) {
    close();
    throw e;
  }
}

function readDigests(value: unknown, text: TextCursor): BucketDigest[] {
  if (!Array.isArray(value)) throw text.damaged('a table\'s digests are not a list');
  return value.map((d: unknown) => {
    if (!Array.isArray(d) || d.length !== 3 || !Number.isSafeInteger(d[0]) || !Number.isSafeInteger(d[1]) || typeof d[2] !== 'string') {
      throw text.damaged('a bucket digest is not [bucket, rows, digest]');
    }
    if (!MD5_HEX.test(d[2])) throw text.damaged(`the digest of bucket ${d[0]} is not an md5 (32 lower-case hex digits)`);
    return { bucket: d[0] as number, rows: d[1] as number, digest: d[2] };
  });
}

/** What the file says of a table before its rows; `ordinal` counts tables from 1, to name one before its name is read. */
interface TableHead {
  buckets: number;
  digests: BucketDigest[];
  digits: 16 | 32;
  format: RowHashFormat;
  ordinal: number;
}

function tableReader(text: TextCursor, { buckets, digests, digits, format, ordinal }: TableHead, ended: () => void): RowHashTable {
  const rowHash = ROW_HASH[digits];
  // Rows parsed but not yet handed out (from `at` on); `head` is the first row of the next bucket.
  let parsed: unknown[] = [];
  let at = 0;
  let rowsDone = false;
  let lastBucket = -1;
  let target: string | null = null;
  const nextRow = async (): Promise<TargetRowHash | null> => {
    while (at >= parsed.length) {
      if (rowsDone) return null;
      parsed = await text.rowBatch();
      at = 0;
      if (parsed.length === 0) rowsDone = true;
    }
    const r = parsed[at++];
    if (!Array.isArray(r) || r.length !== 3 || !Number.isSafeInteger(r[0]) || typeof r[1] !== 'string' || typeof r[2] !== 'string') {
      throw text.damaged('a row is not [bucket, key, rowHash]');
    }
    const b = r[0] as number;
    if (b < 0 || b >= buckets) throw text.damaged(`a row is in bucket ${b}, outside the table's ${buckets} buckets`);
    if (!rowHash.test(r[2])) {
      throw text.damaged(`a row's hash (table ${ordinal} of the file, bucket ${b}) is not ${digits} lower-case hex digits, as format ${format} holds (${digits === 32 ? "the row's full md5" : "the first 64 bits of the row's md5"})`);
    }
    if (b < lastBucket) throw text.damaged(`rows are not in bucket order (bucket ${b} after ${lastBucket})`);
    lastBucket = b;
    return r as TargetRowHash;
  };
  let head: TargetRowHash | null | undefined;
  return {
    buckets,
    digests,
    async nextBucket() {
      if (head === undefined) head = await nextRow();
      if (head === null) return null;
      const group: RowHashBucket = { bucket: head[0], rows: [] };
      while (head !== null && head[0] === group.bucket) {
        group.rows.push(head);
        head = await nextRow();
      }
      return group;
    },
    async end() {
      if (target !== null) return target;
      if (!rowsDone) await text.skipRows();
      rowsDone = true;
      await text.expect(',"target":');
      const name = await text.value();
      if (typeof name !== 'string') throw text.damaged('a table\'s target is not a string');
      await text.expect('}');
      target = name;
      ended();
      return name;
    },
  };
}

/** The gunzipped text, pulled a chunk at a time; only the unread rest of the current chunk is kept. */
class TextCursor {
  private buf = '';
  private pos = 0;
  private eof = false;

  constructor(
    private readonly chunks: AsyncIterator<string>,
    private readonly path: string,
  ) {}

  damaged(what: string): CertificateError {
    return new CertificateError(`the row-hash file ${this.path} is damaged: ${what}`, {
      hint: 'use the row-hash file delivered with the certificate (its sha256 is in the certificate)',
    });
  }

  private async more(): Promise<boolean> {
    if (this.eof) return false;
    let next: IteratorResult<string>;
    try {
      next = await this.chunks.next();
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT') throw new CertificateError(`the row-hash file ${this.path} does not exist`, { hint: 'put the row-hash file delivered with the certificate next to it', cause: e });
      const truncated = err.code === 'Z_BUF_ERROR' || /unexpected end/i.test(err.message);
      throw new CertificateError(`the row-hash file ${this.path} is ${truncated ? 'truncated' : 'not a valid gzip file'} (${err.message})`, {
        hint: 'use the row-hash file delivered with the certificate (its sha256 is in the certificate)',
        cause: e,
      });
    }
    if (next.done) {
      this.eof = true;
      return false;
    }
    this.buf = this.pos < this.buf.length ? this.buf.slice(this.pos) + next.value : next.value;
    this.pos = 0;
    return true;
  }

  private truncated(): CertificateError {
    return this.damaged('its text ends before the file does (truncated)');
  }

  async peek(): Promise<string> {
    while (this.pos >= this.buf.length) if (!(await this.more())) throw this.truncated();
    return this.buf[this.pos]!;
  }

  async expect(literal: string): Promise<void> {
    while (this.buf.length - this.pos < literal.length) if (!(await this.more())) throw this.truncated();
    if (!this.buf.startsWith(literal, this.pos)) throw this.damaged(`expected ${JSON.stringify(literal)} at ${JSON.stringify(this.buf.slice(this.pos, this.pos + 24))}`);
    this.pos += literal.length;
  }

  async atEnd(): Promise<void> {
    while (this.pos >= this.buf.length) if (!(await this.more())) return;
    throw this.damaged('text follows the end of the JSON');
  }

  /** One complete JSON value (a string, number or array of bounded size). */
  async value(): Promise<unknown> {
    for (;;) {
      const end = endOfValue(this.buf, this.pos);
      if (end === EMPTY) throw this.damaged(`expected a value at ${JSON.stringify(this.buf.slice(this.pos, this.pos + 24))}`);
      if (end > this.pos) {
        const slice = this.buf.slice(this.pos, end);
        this.pos = end;
        return this.parse(slice);
      }
      if (!(await this.more())) throw this.truncated();
    }
  }

  /**
   * The complete rows of the `rows` array available in the current chunk (at least one, reading on if needed),
   * consuming them and their commas; an empty list once the array's `]` has been read.
   */
  async rowBatch(): Promise<unknown[]> {
    for (;;) {
      const start = this.pos;
      let p = start;
      let last = -1;
      for (;;) {
        if (p >= this.buf.length) break;
        const c = this.buf.charCodeAt(p);
        if (c === 93 /* ] */ && last === -1 && p === start) {
          this.pos = p + 1;
          return [];
        }
        if (c === 44 /* , */ && last !== -1) {
          p++;
          continue;
        }
        const end = endOfValue(this.buf, p);
        if (end === EMPTY) throw this.damaged(`expected a row at ${JSON.stringify(this.buf.slice(p, p + 24))}`);
        if (end < 0) break;
        last = end;
        p = end;
        if (p < this.buf.length && this.buf.charCodeAt(p) === 93) break;
      }
      if (last !== -1) {
        const rows = this.parse(`[${this.buf.slice(start, last)}]`);
        if (!Array.isArray(rows)) throw this.damaged('rows are not a list');
        this.pos = last;
        // The separator after the last row is consumed now, unless it is the array's end.
        const next = await this.peek();
        if (next === ',') this.pos++;
        else if (next !== ']') throw this.damaged(`expected "," or "]" after a row at ${JSON.stringify(this.buf.slice(this.pos, this.pos + 24))}`);
        return rows;
      }
      if (!(await this.more())) throw this.truncated();
    }
  }

  /** Skip the rest of the `rows` array, its closing `]` included, scanning without parsing. */
  async skipRows(): Promise<void> {
    let depth = 0;
    let inString = false;
    let escaped = false;
    for (;;) {
      const s = this.buf;
      for (let j = this.pos; j < s.length; j++) {
        const c = s.charCodeAt(j);
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 92 /* \ */) escaped = true;
          else if (c === 34 /* " */) inString = false;
        } else if (c === 34) inString = true;
        else if (c === 91 /* [ */) depth++;
        else if (c === 93 /* ] */) {
          if (depth === 0) {
            this.pos = j + 1;
            return;
          }
          depth--;
        }
      }
      this.pos = s.length;
      if (!(await this.more())) throw this.truncated();
    }
  }

  private parse(json: string): unknown {
    try {
      return JSON.parse(json);
    } catch (e) {
      throw this.damaged(`not JSON near ${JSON.stringify(json.slice(0, 24))} (${(e as Error).message})`);
    }
  }
}

const EMPTY = -2;

/** Index just past the JSON value that starts at `i` of `s`, -1 when `s` ends first, EMPTY when there is none. */
function endOfValue(s: string, i: number): number {
  let depth = 0;
  let j = i;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c === 34 /* " */) {
      j = endOfString(s, j);
      if (j < 0) return -1;
      if (depth === 0) return j;
      continue;
    }
    if (c === 91 /* [ */ || c === 123 /* { */) depth++;
    else if (c === 93 /* ] */ || c === 125 /* } */) {
      if (depth === 0) return j > i ? j : EMPTY;
      if (--depth === 0) return j + 1;
    } else if (depth === 0 && c === 44 /* , */) return j > i ? j : EMPTY;
    j++;
  }
  return -1;
}

function endOfString(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 92 /* \ */) j++;
    else if (c === 34) return j + 1;
  }
  return -1;
}
