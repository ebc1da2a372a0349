// A captured table's rows as the verifier needs them (per bucket: each row's key and hash), held compactly: a row is
// its 16 md5 bytes and its key's UTF-8 bytes in per-bucket byte arrays, not JavaScript strings and arrays (which,
// sliced from each batch's digest text, kept every batch's whole text alive: ~250 bytes a row).
import { bucketDigest } from './row-digest.js';

/** The rows of one bucket, in the order they were added. */
class BucketRows {
  private hashes: Buffer = Buffer.alloc(16 * 16);
  private keys: Buffer = Buffer.alloc(512);
  private keyEnds = new Uint32Array(16);
  private keyBytes = 0;
  count = 0;

  add(rowHash: string, key: string): void {
    if ((this.count + 1) * 16 > this.hashes.length) {
      this.hashes = grow(this.hashes, (this.count + 1) * 16);
      const ends = new Uint32Array(this.keyEnds.length * 2);
      ends.set(this.keyEnds);
      this.keyEnds = ends;
    }
    // Decoded in place (no Buffer per row); md5() prints 32 lower-case hex digits.
    if (!LOWER_HEX.test(rowHash) || this.hashes.write(rowHash, this.count * 16, 16, 'hex') !== 16) {
      throw new Error(`not a lower-case md5 hex digest: a row hash of length ${rowHash.length}`);
    }
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (this.keyBytes + key.length * 3 > this.keys.length) this.keys = grow(this.keys, this.keyBytes + key.length * 3);
    this.keyBytes += this.keys.write(key, this.keyBytes, 'utf8');
    this.keyEnds[this.count] = this.keyBytes;
    this.count++;
  }

  /** Row hashes (32 hex digits each), in the order added. */
  rowHashes(): string[] {
    const out = new Array<string>(this.count);
    for (let r = 0; r < this.count; r++) out[r] = this.hashes.toString('hex', r * 16, r * 16 + 16);
    return out;
  }

  /** `[key, first 16 hex digits of the row hash]` per row, in the order added. */
  detail(): Array<[string, string]> {
    const out = new Array<[string, string]>(this.count);
    for (let r = 0; r < this.count; r++) {
      const from = r === 0 ? 0 : this.keyEnds[r - 1]!;
      out[r] = [this.keys.toString('utf8', from, this.keyEnds[r]), this.hashes.toString('hex', r * 16, r * 16 + 8)];
    }
    return out;
  }
}

const LOWER_HEX = /^[0-9a-f]{32}$/;

function grow(a: Buffer, atLeast: number): Buffer {
  // Zero-filled: two details of the same rows are equal byte for byte, spare room included.
  const b = Buffer.alloc(Math.max(atLeast, a.length * 2));
  a.copy(b);
  return b;
}

/**
 * Per bucket, the captured rows' keys and hashes: the bucket digests are computed from it, and the verifier's
 * detail (`[key, rowHash16]` per row, in capture order) is built a bucket at a time when asked for.
 */
export class CaptureDetail {
  private readonly buckets = new Map<number, BucketRows>();

  /** Add a row: its bucket, its md5 (32 lower-case hex digits) and its key (JSON text). */
  add(bucket: number, rowHash: string, key: string): void {
    let rows = this.buckets.get(bucket);
    if (!rows) this.buckets.set(bucket, (rows = new BucketRows()));
    rows.add(rowHash, key);
  }

  get size(): number {
    return this.buckets.size;
  }

  /** The bucket's `[key, rowHash16]` rows, or undefined when no row fell in it. */
  get(bucket: number): Array<[string, string]> | undefined {
    return this.buckets.get(bucket)?.detail();
  }

  /** Buckets in the order their first row came, each built when reached. */
  *entries(): IterableIterator<[number, Array<[string, string]>]> {
    for (const [bucket, rows] of this.buckets) yield [bucket, rows.detail()];
  }

  *values(): IterableIterator<Array<[string, string]>> {
    for (const rows of this.buckets.values()) yield rows.detail();
  }

  /** Per bucket with rows, in bucket order: row count and `bucketDigest` of its row hashes. */
  digests(): Array<{ bucket: number; rows: number; digest: string }> {
    return [...this.buckets.entries()].sort((a, b) => a[0] - b[0]).map(([bucket, rows]) => ({ bucket, rows: rows.count, digest: bucketDigest(rows.rowHashes()) }));
  }

  clear(): void {
    this.buckets.clear();
  }
}
