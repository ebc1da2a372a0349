// The certificate's companion row-hash file, written table by table as the target's rows stream by: memory holds one
// chunk of rows and the bucket digests, never the table.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { gzip, gzipSync } from 'node:zlib';
import { detailRowKey, sortedHashesHex } from '../verification/capture-detail.js';
import type { BucketDigest } from '../verification/row-digest.js';
import type { TargetRowHash } from '../verification/compare-capture.js';

/** The format this Sensei writes: every row's full md5 (32 hex digits). */
export const ROW_HASH_FORMAT = 'sensei-row-hashes/2';
/**
 * Formats `openRowHashReader` reads, with the hex digits each holds of a row's md5: /1 (written before /2) kept only
 * the first 16 (64 bits), so a row is compared by those.
 */
export const ROW_HASH_DIGITS = { 'sensei-row-hashes/1': 16, 'sensei-row-hashes/2': 32 } as const;
export type RowHashFormat = keyof typeof ROW_HASH_DIGITS;

/**
 * Format of the row-hash file (gzip of canonical JSON): per table, bucket digests `[bucket, rows, digest]` (md5, 32
 * hex digits) and `[bucket, key, rowHash]` of every row (its md5, 32 hex digits), in bucket order and within a bucket
 * in row-hash order.
 */
export interface RowHashFile {
  format: typeof ROW_HASH_FORMAT;
  run_id: string;
  tables: Array<{ target: string; buckets: number; digests: Array<[number, number, string]>; rows: TargetRowHash[] }>;
}

/** Rows already written as the file's JSON (`detailRowsJson`): `rows` of them, comma-separated, no leading comma. */
export interface RowsJson {
  json: Buffer;
  rows: number;
}

/** Where a table's rows go, in file order: as rows, or as their JSON. */
export type RowSink = (rows: TargetRowHash[] | RowsJson) => Promise<void>;

export interface RowHashFileWriter {
  /**
   * Add one table: `fill` streams its rows to the sink it is given and returns the table's digests, which the file
   * lists before the rows. Returns what `fill` returned. Several tables may be filled at once: each goes to its own
   * partial file, and the tables stand in the file in the order `addTable` was called.
   */
  addTable<T extends { digests: BucketDigest[] }>(target: string, buckets: number, fill: (onRows: RowSink) => Promise<T>): Promise<T>;
  /** Complete the file at its path and return its sha256 (of the gzip bytes, as the certificate names it). */
  finish(): Promise<{ sha256: string }>;
  /** Remove what was written so far; nothing is left at the path. */
  abort(): Promise<void>;
}

/** Uncompressed bytes per gzip member of a table's rows, and members compressed at once (libuv's pool has 4 threads). */
const MEMBER_BYTES = 256 * 1024;
const COMPRESSING_AT_ONCE = 3;
const gzipAsync = promisify(gzip);

/**
 * Write a row-hash file at `path` (mode 0600: it holds key values). Until `finish` it is built at `<path>.partial`
 * and each table's rows first go to `<path>.table.partial`, since the file's canonical key order puts a table's
 * digests, known only at its end, before its rows. The file is a series of gzip members (any gunzip reads it as
 * one text): the text is the canonical JSON of the `RowHashFile`.
 */
export async function openRowHashFile(path: string, runId: string): Promise<RowHashFileWriter> {
  const partial = `${path}.partial`;
  const tablePartials = new Set<string>();
  const out = createWriteStream(partial, { mode: 0o600 });
  await once(out, 'open');
  const sha = createHash('sha256');
  const put = async (bytes: Buffer): Promise<void> => {
    sha.update(bytes);
    if (!out.write(bytes)) await once(out, 'drain');
  };
  // Keys in code-point order (canonicalJson's): format, run_id, tables; buckets, digests, rows, target.
  await put(gzipSync(`{"format":${JSON.stringify(ROW_HASH_FORMAT)},"run_id":${JSON.stringify(runId)},"tables":[`));
  let tables = 0;
  let calls = 0;
  // The previous table's append: each table is appended after it, in call order.
  let appended: Promise<void> = Promise.resolve();

  return {
    async addTable<T extends { digests: BucketDigest[] }>(target: string, buckets: number, fill: (onRows: RowSink) => Promise<T>): Promise<T> {
      const tablePartial = `${path}.table${calls++}.partial`;
      tablePartials.add(tablePartial);
      const previous = appended;
      let done!: () => void;
      appended = new Promise<void>((resolve) => (done = resolve));
      try {
        return await fillThenAppend(tablePartial, previous, target, buckets, fill);
      } finally {
        done();
      }
    },
    async finish() {
      await appended;
      await put(gzipSync(']}'));
      await end(out);
      await rename(partial, path);
      return { sha256: sha.digest('hex') };
    },
    async abort() {
      await end(out).catch(() => undefined);
      await rm(partial, { force: true });
      for (const p of tablePartials) await rm(p, { force: true });
    },
  };

  async function fillThenAppend<T extends { digests: BucketDigest[] }>(
    tablePartial: string,
    previous: Promise<void>,
    target: string,
    buckets: number,
    fill: (onRows: RowSink) => Promise<T>,
  ): Promise<T> {
    // The table's JSON is cut into gzip members of MEMBER_BYTES each (the last shorter), compressed on libuv's thread
    // pool while the next rows are made, a few at a time (one gzip stream compresses on one thread at a time, and was
    // what a table's certification waited for). The cuts depend only on the text, so the same rows give the same
    // bytes whichever way they came (from the target or from the capture).
    // Level 1: a million rows took 0.9–1.0 s of CPU against 2.0–2.1 s at the default 6, for 27.0 MB against 25.6 MB
    // (row hashes are hex: Huffman coding gets most of what there is).
    const file = createWriteStream(tablePartial, { mode: 0o600 });
    const written = once(file, 'close');
    const compressing: Array<Promise<Buffer>> = [];
    const compress = async (text: Buffer): Promise<void> => {
      const member = gzipAsync(text, { level: 1 });
      member.catch(() => undefined); // observed when written; never an unhandled rejection meanwhile
      compressing.push(member);
      while (compressing.length >= COMPRESSING_AT_ONCE) if (!file.write(await compressing.shift()!)) await once(file, 'drain');
    };
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const add = async (json: Buffer): Promise<void> => {
      pending.push(json);
      pendingBytes += json.length;
      if (pendingBytes < MEMBER_BYTES) return;
      const text = Buffer.concat(pending, pendingBytes);
      let at = 0;
      for (; text.length - at >= MEMBER_BYTES; at += MEMBER_BYTES) await compress(text.subarray(at, at + MEMBER_BYTES));
      [pending, pendingBytes] = [[text.subarray(at)], text.length - at];
    };
    let rows = 0;
    let result: T;
    try {
      result = await fill(async (chunk) => {
        const count = Array.isArray(chunk) ? chunk.length : chunk.rows;
        if (count === 0) return;
        await add(Array.isArray(chunk) ? rowsJson(chunk, rows > 0) : rows > 0 ? Buffer.concat([COMMA, chunk.json]) : chunk.json);
        rows += count;
      });
      if (pendingBytes > 0) await compress(Buffer.concat(pending, pendingBytes));
      while (compressing.length > 0) if (!file.write(await compressing.shift()!)) await once(file, 'drain');
    } finally {
      await Promise.allSettled(compressing);
      file.end();
      await written;
    }
    await previous;
    const digests = result.digests.map((d) => `[${d.bucket},${d.rows},${JSON.stringify(d.digest)}]`).join(',');
    await put(gzipSync(`${tables > 0 ? ',' : ''}{"buckets":${buckets},"digests":[${digests}],"rows":[`));
    for await (const bytes of createReadStream(tablePartial)) await put(bytes as Buffer);
    await put(gzipSync(`],"target":${JSON.stringify(target)}}`));
    await rm(tablePartial, { force: true });
    tablePartials.delete(tablePartial);
    tables++;
    return result;
  }
}

async function end(stream: WriteStream): Promise<void> {
  if (stream.closed) return;
  const closed = once(stream, 'close');
  stream.end();
  await closed;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = Buffer.from(',');
/** JSON.stringify's escape of each control character (below U+0020), as bytes. */
const CONTROL_ESCAPES = Array.from({ length: 0x20 }, (_, c) => Buffer.from(JSON.stringify(String.fromCharCode(c)).slice(1, -1), 'latin1'));

/**
 * The rows of one bucket of a capture's detail (`sortedBuckets`: `rows` are the offsets of its rows in `bytes`, in
 * file order) as the file's JSON, `[bucket,"key","rowHash"]` each, comma-separated, written from the stored bytes:
 * the same bytes `rowsJson` writes for those rows (a key's UTF-8 bytes are JSON.stringify's but for the escapes of `"`,
 * `\` and control characters, which are written here). Also returns the bucket's digest (`bucketDigest`) of the
 * rows' md5s in that order.
 */
export function detailRowsJson(bytes: Buffer, bucket: number, rows: readonly number[]): { json: Buffer; digest: string } {
  let most = 0;
  for (const at of rows) {
    const [from, to] = detailRowKey(bytes, at);
    most += 48 + 6 * (to - from);
  }
  const buf = Buffer.allocUnsafe(most);
  const hex = sortedHashesHex(bytes, rows);
  const head = Buffer.from(`[${JSON.stringify(bucket)},"`, 'latin1');
  let at = 0;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    if (r > 0) buf[at++] = 0x2c;
    at += head.copy(buf, at);
    const [from, to] = detailRowKey(bytes, row);
    for (let i = from; i < to; i++) {
      const c = bytes[i]!;
      if (c < 0x20) at += CONTROL_ESCAPES[c]!.copy(buf, at);
      else {
        if (c === QUOTE || c === BACKSLASH) buf[at++] = BACKSLASH;
        buf[at++] = c;
      }
    }
    buf[at++] = QUOTE;
    buf[at++] = 0x2c;
    buf[at++] = QUOTE;
    for (let h = 32 * r; h < 32 * r + 32; h++) buf[at++] = hex[h]!;
    buf[at++] = QUOTE;
    buf[at++] = 0x5d;
  }
  return { json: buf.subarray(0, at), digest: createHash('md5').update(hex).digest('hex') };
}

/** The rows' canonical JSON, `JSON.stringify(row)` of each joined by commas (a leading comma when `more`), as UTF-8. */
export function rowsJson(rows: readonly TargetRowHash[], more: boolean): Buffer {
  return rows.length === 0 ? Buffer.alloc(0) : Buffer.from(`${more ? ',' : ''}${rows.map((r) => JSON.stringify(r)).join(',')}`, 'utf8');
}
