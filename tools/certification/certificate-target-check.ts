// Does the target still hold what a certificate certified? Re-hash every table in the database and, with the
// row-hash file, name the key of every row that differs. The file and the target's rows are both read as streams in
// bucket order and compared a bucket at a time, so memory does not grow with the data.
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { Certificate } from '../../core/certificate.js';
import { CertificateError } from '../../core/errors.js';
import type { Finding } from '../../core/findings.js';
import type { TargetConnector } from '../../connectors/connector.js';
import { addRowDifferences, differingBuckets, diffRows, digestTargetBuckets, digestTargetRows, rowFindings, type RowDifferences, type TargetRowHash } from '../verification/compare-capture.js';
import type { DigestShape } from '../verification/row-digest.js';
import type { RowHashFormat } from './row-hash-file.js';
import { openRowHashReader, type RowHashBucket, type RowHashTable } from './row-hash-reader.js';

export interface TargetCheck {
  /** True when every table's root equals the certified one. */
  matches: boolean;
  tables: Array<{ table: string; matches: boolean }>;
  /** Row-level findings (or, without the row-hash file, one per changed table). */
  findings: Finding[];
  /**
   * The row-hash file read, and how many bits of each row's md5 it let the check compare: 128 (format /2), 64 (format
   * /1, which holds only the first 16 hex digits); null without the file.
   */
  rowHashes: { format: RowHashFormat; bitsPerRow: 64 | 128 } | null;
}

/** A row-hash file whose bytes are the certified ones; `checkTargetAgainstCertificate` streams it from `path`. */
export interface CertifiedRowHashFile {
  path: string;
}

/**
 * Find the certificate's row-hash file next to `certificatePath` and check that its sha256 is the certified one
 * (one streamed pass over its bytes). Returns null when the certificate names none; throws a CertificateError when
 * it is missing or was changed.
 */
export async function readRowHashFile(certificatePath: string, cert: Certificate): Promise<CertifiedRowHashFile | null> {
  const ref = cert.payload.row_hashes;
  if (!ref) return null;
  const path = join(dirname(certificatePath), ref.file);
  const sha = createHash('sha256');
  try {
    for await (const bytes of createReadStream(path)) sha.update(bytes as Buffer);
  } catch (e) {
    throw new CertificateError(`the row-hash file ${path} cannot be read (${(e as Error).message})`, { hint: 'put the row-hash file delivered with the certificate next to it', cause: e });
  }
  if (sha.digest('hex') !== ref.sha256) {
    throw new CertificateError(`the row-hash file ${path} is not the one certified (its sha256 differs): it was changed, truncated or replaced`, {
      hint: 'use the row-hash file delivered with the certificate',
    });
  }
  return { path };
}

/**
 * Re-hash every certified table of `target` in the database (bucket digests, `digestTargetBuckets`); the table's verdict
 * is its root against the certified one. With the row-hash file, a table that differs is read again through a cursor
 * in bucket order (`digestTargetRows`) and its buckets whose digests differ from the file's are compared row by row
 * with the file's as both stream by; the file's rows of an equal table are skipped unparsed. Throws a
 * CertificateError when the file is damaged or does not list the certificate's tables in its order.
 */
export async function checkTargetAgainstCertificate(cert: Certificate, target: TargetConnector, rowHashes: CertifiedRowHashFile | null): Promise<TargetCheck> {
  const existing = new Set((await target.catalog()).tables.map((t) => t.name));
  const reader = rowHashes ? await openRowHashReader(rowHashes.path) : null;
  const out: TargetCheck = { matches: true, tables: [], findings: [], rowHashes: reader ? { format: reader.format, bitsPerRow: reader.rowHashDigits === 32 ? 128 : 64 } : null };
  try {
    for (const t of cert.payload.tables) {
      const file = reader ? await reader.nextTable() : null;
      if (reader && !file) throw fileMismatch(rowHashes!.path, `it ends before table ${t.target}`);
      if (file && file.buckets !== t.buckets) throw fileMismatch(rowHashes!.path, `it lists ${t.target} with ${file.buckets} buckets, the certificate ${t.buckets}`);
      let same = false;
      if (!existing.has(t.target)) {
        out.findings.push({ code: 'missing_table', path: [t.target], message: `target table ${t.target} no longer exists` });
      } else {
        const shape = { columns: t.columns, key: t.key, bucketHash: t.bucket_hash };
        const actual = await digestTargetBuckets(target, t.target, shape, t.buckets);
        same = actual.root === t.target_root;
        if (!same && file) {
          const which = new Set(differingBuckets(file.digests, actual.digests));
          const findings = rowFindings(t.target, await compareWithFile(target, t.target, shape, t.buckets, file, which, reader!.rowHashDigits));
          // Rows equal by the hashes the file holds while the root differs (a /1 file compares 64 bits per row): say so
          // rather than pass in silence.
          if (findings.length === 0) findings.push({ code: 'check_error', path: [t.target], message: `${t.target} differs from what was certified, but no row of the row-hash file differs: the rows cannot be named` });
          out.findings.push(...findings);
        } else if (!same) {
          out.findings.push({ code: 'check_error', path: [t.target], message: `${t.target} differs from what was certified; without the row-hash file the rows cannot be named` });
        }
      }
      if (file) {
        const listed = await file.end();
        if (listed !== t.target) throw fileMismatch(rowHashes!.path, `it lists ${listed} where the certificate lists ${t.target}`);
      }
      out.tables.push({ table: t.target, matches: same });
      if (!same) out.matches = false;
    }
    if (reader && (await reader.nextTable())) throw fileMismatch(rowHashes!.path, 'it lists more tables than the certificate');
  } finally {
    reader?.close();
  }
  return out;
}

function fileMismatch(path: string, what: string): CertificateError {
  return new CertificateError(`the row-hash file ${path} does not match the certificate: ${what}`, { hint: 'use the row-hash file delivered with this certificate' });
}

/**
 * One cursor pass over the target table merged with the file's rows of the same table: both come in bucket order,
 * so a bucket is compared once both sides have moved past it; only the buckets in `which` (those whose digests
 * differ) are compared row by row, by the first `digits` hex digits of each row's md5 (as many as the file holds).
 * Holds one bucket of each side (and the cursor's chunk).
 */
async function compareWithFile(
  target: TargetConnector,
  table: string,
  shape: DigestShape,
  buckets: number,
  file: RowHashTable,
  which: Set<number>,
  digits: 16 | 32,
): Promise<RowDifferences> {
  const diff: RowDifferences = { missing: [], extra: [], changed: [] };
  const pairs = (rows: TargetRowHash[]): Array<[string, string]> => rows.map(([, k, h]) => [k, h]);
  const compare = (bucket: number, expected: TargetRowHash[], found: TargetRowHash[]): void => {
    if (!which.has(bucket)) return;
    const actual = digits === 32 ? found : found.map(([b, k, h]): TargetRowHash => [b, k, h.slice(0, digits)]);
    if (expected.length === actual.length && expected.every(([, k, h], i) => actual[i]![1] === k && actual[i]![2] === h)) return;
    addRowDifferences(diff, diffRows(shape, new Map([[bucket, pairs(expected)]]), new Map([[bucket, pairs(actual)]]), [bucket]));
  };
  let pending: RowHashBucket | null | undefined;
  const nextExpected = async (): Promise<RowHashBucket | null> => (pending === undefined ? (pending = await file.nextBucket()) : pending);
  // The target's bucket `actual` is complete (null: the target has no more rows): compare it and every file bucket
  // before it.
  const settle = async (actual: RowHashBucket | null): Promise<void> => {
    for (let e = await nextExpected(); e && (actual === null || e.bucket <= actual.bucket); e = await nextExpected()) {
      if (actual && e.bucket === actual.bucket) {
        compare(e.bucket, e.rows, actual.rows);
        pending = undefined;
        return;
      }
      compare(e.bucket, e.rows, []);
      pending = undefined;
    }
    if (actual) compare(actual.bucket, [], actual.rows);
  };
  let open: RowHashBucket | null = null;
  await digestTargetRows(target, table, shape, buckets, async (chunk) => {
    for (const row of chunk) {
      if (open && open.bucket !== row[0]) {
        await settle(open);
        open = null;
      }
      (open ??= { bucket: row[0], rows: [] }).rows.push(row);
    }
  });
  if (open) await settle(open);
  await settle(null);
  return diff;
}
