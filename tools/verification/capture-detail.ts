// A captured table's rows as the verifier needs them (per bucket: each row's key and hash), spilled to local disk as
// they come, sealed, so the capture's memory stays flat however large the table: only the chunks being filled and,
// when read back, one partition (16 buckets) at a time are in memory.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CaptureSpillError } from '../../core/errors.js';
import type { BucketDigest } from './row-digest.js';

/** Options of a `CaptureDetail`. */
export interface CaptureDetailOptions {
  /** The table the rows are of, named in errors. Default `table`. */
  table?: string;
  /** Where the private spill directory is made. Default `os.tmpdir()` (`TMPDIR`). */
  dir?: string;
  /** Plaintext bytes per sealed chunk. Default 64 KiB. */
  chunkBytes?: number;
}

/** Buckets per partition: a partition (read back whole) is a range of 16 buckets. */
export const DETAIL_PARTITION_SHIFT = 4;
const PARTITION_SHIFT = DETAIL_PARTITION_SHIFT;
/**
 * 64 KiB per chunk: a table has up to 4096 buckets, so up to 256 partitions each filling a chunk at once (16 MiB at
 * most); 1 MiB chunks would allow 256 MiB.
 */
const CHUNK_BYTES = 64 * 1024;
// Per row: bucket (uint16), md5 (16 bytes), key length (uint32), key (UTF-8).
const HEAD = 2 + 16 + 4;
const NONCE = 12;
const TAG = 16;

/** One partition: the chunk being filled and the sealed chunks already in the spill file, in write order. */
interface Partition {
  pending: Buffer | null;
  used: number;
  chunks: Array<{ at: number; length: number }>;
}

/**
 * What reads back a detail kept as a file (`CaptureDetail.keep`): its key and, per partition, where each sealed chunk
 * of the file is (`[offset, length]`, in write order). Holds the key: store it only sealed.
 */
export interface KeptDetail {
  key: Buffer;
  /** The file's size when kept; 0 when the table had no rows (no file then). */
  bytes: number;
  partitions: Array<Array<[number, number]> | null>;
}

/** Hex digit values by character code (lower-case only); 16 for any other byte. */
const HEX = new Uint8Array(256).fill(16);
for (let d = 0; d < 16; d++) HEX['0123456789abcdef'.charCodeAt(d)] = d;

const notMd5 = (length: number): Error => new Error(`not a lower-case md5 hex digest: a row hash of length ${length}`);

function checkBucket(bucket: number, table: string): void {
  if (!Number.isInteger(bucket) || bucket < 0 || bucket > 0xffff) throw new Error(`bucket ${bucket} of ${table} is not an integer from 0 to 65535`);
}

/** Spill directories not yet released, removed at exit too (a crash leaves only ciphertext, its key gone with it). */
const live = new Set<string>();
let exitHook = false;

/**
 * Per bucket, the captured rows' keys and hashes: the bucket digests are computed from it, and the verifier's
 * detail (`[key, rowHash]` per row, in capture order) is built a partition at a time when asked for.
 *
 * Rows are appended to their partition's chunk in memory; a full chunk is sealed (AES-256-GCM, a random key per
 * detail held only in memory, a random nonce per chunk, the partition and chunk number as associated data) and
 * appended to a spill file (mode 0600) in a private directory (mkdtemp). Reading flushes what is pending. `release()`
 * removes the directory; the owner calls it when done, on success and on failure.
 */
export class CaptureDetail {
  private readonly table: string;
  private readonly parent: string;
  private readonly chunkBytes: number;
  private readonly key = randomBytes(32);
  private readonly partitions: Array<Partition | undefined> = [];
  /** Rows per bucket. */
  private readonly rowsIn = new Uint32Array(0x10000);
  private bucketsWithRows = 0;
  private dir: string | null = null;
  private fd: number | null = null;
  private fileBytes = 0;
  private released = false;

  constructor(options: CaptureDetailOptions = {}) {
    this.table = options.table ?? 'table';
    this.parent = options.dir ?? tmpdir();
    this.chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
  }

  /** Add a row: its bucket (0–65535), its md5 (32 lower-case hex digits) and its key (JSON text). */
  add(bucket: number, rowHash: string, key: string): void {
    this.usable();
    checkBucket(bucket, this.table);
    if (rowHash.length !== 32) throw notMd5(rowHash.length);
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const { buf, at, part } = this.room(bucket, HEAD + key.length * 3);
    // Decoding is the check (one pass, no regex per row): it stops at the first character that is not hex. The row is
    // not counted (`used` stays) when it fails.
    if (buf.write(rowHash, at + 2, 16, 'hex') !== 16) throw notMd5(rowHash.length);
    this.added(part, buf, at, bucket, buf.write(key, at + HEAD, 'utf8'));
  }

  /**
   * Add the rows of `rowDigestLinesSql`'s text (a `b h key` line per row), in order, as `add` would each; returns how
   * many. Parsed as bytes: no string per row.
   */
  addLines(lines: string | null): number {
    this.usable();
    if (lines === null || lines.length === 0) return 0;
    const text = Buffer.from(lines, 'utf8');
    let rows = 0;
    for (let at = 0; at < text.length; rows++) {
      let end = text.indexOf(0x0a, at);
      if (end < 0) end = text.length;
      let bucket = 0;
      let i = at;
      for (; i < end && text[i] !== 0x20; i++) {
        const d = text[i]! - 0x30;
        if (d < 0 || d > 9 || bucket > 0xffff) throw new Error(`line ${rows + 1} of the row digests of ${this.table} does not start with a bucket number`);
        bucket = bucket * 10 + d;
      }
      if (i === at) throw new Error(`line ${rows + 1} of the row digests of ${this.table} does not start with a bucket number`);
      checkBucket(bucket, this.table);
      const hash = i + 1;
      let space = text.indexOf(0x20, hash);
      if (space < 0 || space > end) space = end;
      if (space - hash !== 32) throw notMd5(space - hash);
      const key = Math.min(space + 1, end);
      const { buf, at: to, part } = this.room(bucket, HEAD + end - key);
      for (let k = 0; k < 16; k++) {
        const hi = HEX[text[hash + 2 * k]!]!;
        const lo = HEX[text[hash + 2 * k + 1]!]!;
        if ((hi | lo) > 15) throw notMd5(32);
        buf[to + 2 + k] = (hi << 4) | lo;
      }
      this.added(part, buf, to, bucket, text.copy(buf, to + HEAD, key, end));
      at = end + 1;
    }
    return rows;
  }

  /** Buckets with rows. */
  get size(): number {
    return this.bucketsWithRows;
  }

  /** The pending chunk of the bucket's partition, with `most` bytes free at `at` (sealing the full one first). */
  private room(bucket: number, most: number): { buf: Buffer; at: number; part: Partition } {
    const p = bucket >> PARTITION_SHIFT;
    let part = this.partitions[p];
    if (!part) this.partitions[p] = part = { pending: null, used: 0, chunks: [] };
    if (part.pending && part.used + most > part.pending.length) this.seal(p, part);
    // A row larger than a chunk gets a chunk of its own. Only the bytes written (`used`) are ever read.
    if (!part.pending || part.pending.length < most) part.pending = Buffer.allocUnsafe(Math.max(this.chunkBytes, most));
    return { buf: part.pending, at: part.used, part };
  }

  /** Completes a row written at `at` whose hash is in place: its bucket, its key's length; counts it. */
  private added(part: Partition, buf: Buffer, at: number, bucket: number, keyBytes: number): void {
    buf.writeUInt16LE(bucket, at);
    buf.writeUInt32LE(keyBytes, at + 18);
    part.used = at + HEAD + keyBytes;
    if (this.rowsIn[bucket] === 0) this.bucketsWithRows++;
    this.rowsIn[bucket]! += 1;
  }

  /** The spill file, once a chunk was written (for inspection): ciphertext only. */
  get spillFile(): string | null {
    return this.dir && join(this.dir, 'detail.spill');
  }

  /** Per bucket with rows, in bucket order: row count and `bucketDigest` of its row hashes. */
  async digests(): Promise<BucketDigest[]> {
    const out: BucketDigest[] = [];
    for await (const plains of this.read(null)) {
      const { bytes, buckets } = sortedBuckets(plains);
      for (const b of buckets) out.push({ bucket: b.bucket, rows: b.rows.length, digest: createHash('md5').update(sortedHashesHex(bytes, b.rows)).digest('hex') });
    }
    return out;
  }

  /** Buckets with rows in bucket order, each with its `[key, rowHash]` rows in the order added; a partition read at a time. */
  async *entries(): AsyncGenerator<[number, Array<[string, string]>]> {
    for await (const plains of this.read(null)) {
      const rows = rowsByBucket(plains);
      for (const b of [...rows.keys()].sort((x, y) => x - y)) yield [b, rows.get(b)!];
    }
  }

  /** The `[key, rowHash]` rows of the given buckets (empty for a bucket without rows); reads only their partitions. */
  async select(buckets: number[]): Promise<Map<number, Array<[string, string]>>> {
    return selectRows(buckets, (only) => this.read(only));
  }

  /** The decrypted chunks of partition `p` (buckets `16p`–`16p + 15`), rows as stored (`sortedBuckets` reads them). */
  async partition(p: number): Promise<Buffer[]> {
    return onePartition(p, (only) => this.read(only));
  }

  /**
   * Seals what is pending and moves the spill file to `file` (mode 0600; its directory is made 0700), replacing a file
   * there, and releases the detail. Returns what reads the file back (`readKeptDetail`), key included. A table
   * without rows has no file: one left at `file` is removed.
   */
  keep(file: string): KeptDetail {
    this.usable();
    this.flush();
    const kept: KeptDetail = {
      key: Buffer.from(this.key),
      bytes: this.fileBytes,
      partitions: Array.from(this.partitions, (p) => (p ? p.chunks.map((c): [number, number] => [c.at, c.length]) : null)),
    };
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      if (!this.dir) rmSync(file, { force: true });
      else moveFile(this.spillFile!, file);
    } catch (e) {
      kept.key.fill(0);
      throw new CaptureSpillError(`could not keep the captured rows of ${this.table} at ${file} (${String((e as { code?: unknown }).code ?? e)})`, {
        hint: 'free space in the Sensei home (or make its captures directory writable), then resume the run: the capture runs again from its first table',
        cause: e,
      });
    } finally {
      this.release();
    }
    return kept;
  }

  /** Removes the spill directory and forgets the key; the detail cannot be read afterwards. Safe to call twice. */
  release(): void {
    this.released = true;
    this.partitions.length = 0;
    this.rowsIn.fill(0);
    this.bucketsWithRows = 0;
    this.key.fill(0);
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    if (this.dir) {
      rmSync(this.dir, { recursive: true, force: true });
      live.delete(this.dir);
    }
  }

  private usable(): void {
    if (this.released) throw new Error(`the capture detail of ${this.table} was released: it cannot be used any more`);
  }

  /** Seals the partition's pending rows into a chunk appended to the spill file. */
  private seal(p: number, part: Partition): void {
    if (!part.pending || part.used === 0) return;
    const nonce = randomBytes(NONCE);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(chunkAad(p, part.chunks.length));
    const body = Buffer.concat([nonce, cipher.update(part.pending.subarray(0, part.used)), cipher.final(), cipher.getAuthTag()]);
    part.chunks.push({ at: this.append(body), length: body.length });
    part.used = 0;
  }

  /** Appends to the spill file (made on first use); returns where the bytes start. */
  private append(body: Buffer): number {
    try {
      if (this.fd === null) {
        if (!this.dir) {
          this.dir = mkdtempSync(join(this.parent, 'sensei-capture-'));
          live.add(this.dir);
          if (!exitHook) {
            exitHook = true;
            process.once('exit', () => {
              for (const d of live) rmSync(d, { recursive: true, force: true });
            });
          }
        }
        this.fd = openSync(this.spillFile!, this.fileBytes === 0 ? 'wx' : 'r+', 0o600);
      }
      const at = this.fileBytes;
      for (let done = 0; done < body.length; ) done += writeSync(this.fd, body, done, body.length - done, at + done);
      this.fileBytes += body.length;
      return at;
    } catch (e) {
      const code = String((e as { code?: unknown }).code ?? 'unknown error');
      throw new CaptureSpillError(`could not write the capture spill file of ${this.table} under ${this.dir ?? this.parent} (${code})`, {
        hint: 'free space there, or set TMPDIR to a local directory with room, then resume the run: the capture runs again from its first table',
        cause: e,
      });
    }
  }

  /** Seals every pending chunk and closes the spill file, so that what is read is all on disk. */
  private flush(): void {
    this.partitions.forEach((part, p) => {
      if (!part) return;
      this.seal(p, part);
      part.pending = null;
    });
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /** The decrypted chunks of each partition (those in `only`, or all), a partition at a time in bucket order. */
  private async *read(only: Set<number> | null): AsyncGenerator<Buffer[]> {
    this.usable();
    this.flush();
    if (!this.dir) return;
    const partitions = this.partitions.map((p) => p?.chunks.map((c): [number, number] => [c.at, c.length]) ?? null);
    yield* readSealed(this.spillFile!, this.key, partitions, only, (what, cause) => this.unreadable(what, cause));
  }

  private unreadable(what: string, cause?: unknown): CaptureSpillError {
    return new CaptureSpillError(`the captured rows of ${this.table} cannot be read back: ${what}`, {
      hint: 'nothing else may write to the capture spill directory; capture the source again (resume the run: the capture runs again from its first table)',
      cause,
    });
  }
}

/**
 * The `[key, rowHash]` rows of the given buckets of a detail kept as `file` (`CaptureDetail.keep`), `table` named in
 * errors; reads only their partitions. A missing, truncated or changed file is a CaptureSpillError naming the table,
 * the file and the chunk.
 */
export async function readKeptDetail(kept: KeptDetail, file: string, table: string, buckets: number[]): Promise<Map<number, Array<[string, string]>>> {
  return selectRows(buckets, (only) => (kept.bytes === 0 ? empty() : readSealed(file, kept.key, kept.partitions, only, keptUnreadable(table), kept.bytes)));
}

const keptUnreadable =
  (table: string) =>
  (what: string, cause?: unknown): CaptureSpillError =>
    new CaptureSpillError(`the stored captured rows of ${table} cannot be read: ${what}`, {
      hint: 'the capture detail files under the Sensei home (captures/) must stay as written: restore the file, or migrate again to capture the source anew',
      cause,
    });

/** Partition `p` of a detail kept as `file`, as `CaptureDetail.partition` reads it of one in memory. */
export async function readKeptPartition(kept: KeptDetail, file: string, table: string, p: number): Promise<Buffer[]> {
  return onePartition(p, (only) => (kept.bytes === 0 ? empty() : readSealed(file, kept.key, kept.partitions, only, keptUnreadable(table), kept.bytes)));
}

async function onePartition(p: number, read: (only: Set<number>) => AsyncGenerator<Buffer[]>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const plains of read(new Set([p]))) out.push(...plains);
  return out;
}

/** One bucket of a partition read back: its row count, its rows' offsets in the partition's bytes sorted by row hash. */
export interface SortedBucket {
  bucket: number;
  /** Where each row starts in `bytes`, in ascending order of the row's md5 (byte-wise: the order of its hex text). */
  rows: number[];
}

/**
 * The rows of a partition's decrypted chunks per bucket, buckets in ascending order, each bucket's rows sorted by
 * their md5 bytes, which is the order of the hex digests as text; rows with the same md5 keep their stored order. The
 * rows are read with `sortedHashesHex` and `detailRowKey`.
 */
export function sortedBuckets(plains: Buffer[]): { bytes: Buffer; buckets: SortedBucket[] } {
  const bytes = plains.length === 1 ? plains[0]! : Buffer.concat(plains);
  const byBucket = new Map<number, number[]>();
  for (let at = 0; at < bytes.length; ) {
    const b = bytes.readUInt16LE(at);
    let rows = byBucket.get(b);
    if (!rows) byBucket.set(b, (rows = []));
    rows.push(at);
    at += HEAD + bytes.readUInt32LE(at + 18);
  }
  const buckets = [...byBucket.keys()].sort((x, y) => x - y).map((bucket) => ({ bucket, rows: sortByHash(bytes, byBucket.get(bucket)!) }));
  return { bytes, buckets };
}

/** Rows of one bucket told apart by their first 5 md5 bytes and their position, packed in a double (below 2^53). */
const POSITION_BITS = 13;

/** Row offsets sorted by the rows' md5 bytes, stably. */
function sortByHash(bytes: Buffer, rows: number[]): number[] {
  const n = rows.length;
  const hashOf = (at: number): Buffer => bytes.subarray(at + 2, at + 18);
  if (n >= 1 << POSITION_BITS) {
    return rows.map((at, i) => ({ at, i })).sort((x, y) => hashOf(x.at).compare(hashOf(y.at)) || x.i - y.i).map((x) => x.at);
  }
  // A native numeric sort of (first 40 bits of the md5, position): the hash order, then the stored order.
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const at = rows[i]! + 2;
    keys[i] = (bytes[at]! * 2 ** 32 + bytes.readUInt32BE(at + 1)) * (1 << POSITION_BITS) + i;
  }
  keys.sort();
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = rows[keys[i]! % (1 << POSITION_BITS)]!;
  // Rows whose first 40 bits agree are ordered by their whole md5 (insertion sort, stable: such runs are rare and short).
  for (let i = 1; i < n; i++) {
    if (Math.floor(keys[i]! / (1 << POSITION_BITS)) !== Math.floor(keys[i - 1]! / (1 << POSITION_BITS))) continue;
    for (let j = i; j > 0 && hashOf(out[j - 1]!).compare(hashOf(out[j]!)) > 0; j--) [out[j - 1], out[j]] = [out[j]!, out[j - 1]!];
  }
  return out;
}

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/**
 * The md5s of the rows at `rows` (offsets in `bytes`, as `sortedBuckets` gives them) as hex text, one after the other:
 * what `bucketDigest` hashes when they are in hash order.
 */
export function sortedHashesHex(bytes: Buffer, rows: readonly number[]): Buffer {
  const hex = Buffer.allocUnsafe(32 * rows.length);
  for (let r = 0; r < rows.length; r++) {
    const at = rows[r]! + 2;
    for (let k = 0; k < 16; k++) {
      hex[32 * r + 2 * k] = HEX_DIGITS[bytes[at + k]! >> 4]!;
      hex[32 * r + 2 * k + 1] = HEX_DIGITS[bytes[at + k]! & 15]!;
    }
  }
  return hex;
}

/** The key of the row at `at`: where its UTF-8 JSON text starts and ends in `bytes`. */
export const detailRowKey = (bytes: Buffer, at: number): [number, number] => [at + HEAD, at + HEAD + bytes.readUInt32LE(at + 18)];

async function* empty(): AsyncGenerator<Buffer[]> {}

async function selectRows(buckets: number[], read: (only: Set<number>) => AsyncGenerator<Buffer[]>): Promise<Map<number, Array<[string, string]>>> {
  const out = new Map<number, Array<[string, string]>>(buckets.map((b) => [b, []]));
  for await (const plains of read(new Set(buckets.map((b) => b >> PARTITION_SHIFT)))) {
    for (const [b, rows] of rowsByBucket(plains)) if (out.has(b)) out.set(b, rows);
  }
  return out;
}

/** Moves `from` to `to`: a rename, or a copy (mode 0600) and removal when they are on different file systems. */
function moveFile(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'EXDEV') throw e;
    copyFileSync(from, to);
    chmodSync(to, 0o600);
    rmSync(from, { force: true });
  }
}

/**
 * The decrypted chunks of each partition of a sealed file (those in `only`, or all), a partition at a time in bucket
 * order. `bytes`, when given, is the size the file must have.
 */
async function* readSealed(
  path: string,
  key: Buffer,
  partitions: Array<Array<[number, number]> | null>,
  only: Set<number> | null,
  unreadable: (what: string, cause?: unknown) => Error,
  bytes?: number,
): AsyncGenerator<Buffer[]> {
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (e) {
    throw unreadable(`its ${bytes === undefined ? 'spill ' : ''}file ${path} cannot be opened (${String((e as { code?: unknown }).code ?? e)})`, e);
  }
  try {
    if (bytes !== undefined) {
      const size = (await file.stat()).size;
      if (size !== bytes) throw unreadable(`its file ${path} has ${size} bytes, not the ${bytes} written`);
    }
    for (let p = 0; p < partitions.length; p++) {
      const chunks = partitions[p];
      if (!chunks || (only && !only.has(p))) continue;
      const plains: Buffer[] = [];
      for (const [n, [at, length]] of chunks.entries()) {
        const body = Buffer.alloc(length);
        const { bytesRead } = await file.read(body, 0, length, at);
        const where = `chunk ${n} of buckets ${p << PARTITION_SHIFT}–${((p + 1) << PARTITION_SHIFT) - 1} in ${path}`;
        if (bytesRead < length) throw unreadable(`${where} is truncated (${bytesRead} of ${length} bytes)`);
        const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, NONCE));
        decipher.setAAD(chunkAad(p, n));
        decipher.setAuthTag(body.subarray(length - TAG));
        try {
          plains.push(Buffer.concat([decipher.update(body.subarray(NONCE, length - TAG)), decipher.final()]));
        } catch (e) {
          throw unreadable(`${where} fails its AES-GCM authentication: it was changed after it was written`, e);
        }
      }
      yield plains;
    }
  } finally {
    await file.close();
  }
}

const chunkAad = (p: number, n: number): Buffer => Buffer.from(`sensei capture spill\u0000${p}\u0000${n}`);

/** Calls `row` with the bucket and the row's offset for each row of the decrypted chunks, in order. */
function eachRow(plains: Buffer[], row: (bucket: number, plain: Buffer, at: number, keyEnd: number) => void): void {
  for (const plain of plains) {
    for (let at = 0; at < plain.length; ) {
      const keyEnd = at + HEAD + plain.readUInt32LE(at + 18);
      row(plain.readUInt16LE(at), plain, at, keyEnd);
      at = keyEnd;
    }
  }
}

function rowsByBucket(plains: Buffer[]): Map<number, Array<[string, string]>> {
  const rows = new Map<number, Array<[string, string]>>();
  eachRow(plains, (b, plain, at, keyEnd) => {
    let list = rows.get(b);
    if (!list) rows.set(b, (list = []));
    list.push([plain.toString('utf8', at + HEAD, keyEnd), plain.toString('hex', at + 2, at + 18)]);
  });
  return rows;
}
