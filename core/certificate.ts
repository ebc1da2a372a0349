// The Behavioral Equivalence Certificate: what was migrated, how it was checked, signed with Ed25519.
import { z } from 'zod';
import { CheckResult } from './findings.js';
import { Plan } from './plan.js';

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const CertificateTable = z.object({
  source: z.string(),
  target: z.string(),
  rows_read: z.number().int().nonnegative(),
  rows_written: z.number().int().nonnegative(),
  rows_errored: z.number().int().nonnegative(),
  /** sha256 over every source row read during execution, in key order (COPY text form). */
  source_sha256: Hex64,
  /** The hashed target columns in order, with their target types: what `certificate verify --target` re-hashes. */
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  /** Target key columns that identify a row (empty: rows are identified by content). */
  key: z.array(z.string()),
  /** Key-range bucket count (a power of two) of both roots. */
  buckets: z.number().int().positive(),
  /**
   * How a row's key picks its bucket (tools/verification/row-digest.ts `BucketHash`): `hashtextextended` is
   * PostgreSQL's hashtextextended(key text, 0), `md5` the first 32 bits of md5(key text), both masked to `buckets`.
   * Required from format `sensei-certificate/3`; absent in `/2` certificates, which all used md5.
   */
  bucket_hash: z.enum(['md5', 'hashtextextended']).optional(),
  /** Rows the source held at capture time, after transformation and validation; null without a capture. */
  rows_captured: z.number().int().nonnegative().nullable(),
  /** Root of the captured source's bucket digests; null without a capture. */
  captured_root: Hex64.nullable(),
  /** Root of the target's bucket digests when certified (sha256 over `bucket:rows:md5` lines). */
  target_root: Hex64,
});
export type CertificateTable = z.infer<typeof CertificateTable>;

/** The signed content. Every field is covered by the signature and, through the chain, by `chain.final`. */
export const CertificatePayload = z.object({
  /** `/3` names each table's bucket hash; `/2` (issued before) does not and used md5. Both are read. */
  format: z.enum(['sensei-certificate/2', 'sensei-certificate/3']),
  run_id: z.string(),
  issued_at: z.string(),
  /** When the source was captured for verification; null without a capture. */
  captured_at: z.string().nullable(),
  source: z.object({ dialect: z.string(), database: z.string() }),
  target: z.object({ dialect: z.string(), database: z.string() }),
  /** The approved plan; `chain.plan` is the sha256 of its canonical JSON. */
  plan: Plan,
  tables: z.array(CertificateTable),
  coverage: z.object({
    tables: z.number().int().nonnegative(),
    columns_mapped: z.number().int().nonnegative(),
    rows_read: z.number().int().nonnegative(),
    rows_written: z.number().int().nonnegative(),
    rows_errored: z.number().int().nonnegative(),
    /** Rows compared with the captured source by bucket hashes. */
    rows_compared: z.number().int().nonnegative(),
    rules: z.number().int().nonnegative(),
    queries: z.number().int().nonnegative(),
  }),
  approval: z.object({ by: z.string(), at: z.string() }),
  verification: z.object({ passed: z.boolean(), checks: z.array(CheckResult) }),
  /** Rows not migrated (error queue summary) and approved waivers, with who approved them. */
  exceptions: z.array(
    z.object({
      table: z.string(),
      count: z.number().int().nonnegative(),
      reason: z.string(),
      approved_by: z.string().nullable(),
      /** Present for a waiver: the finding it covers and when it was approved. Absent for queued rows. */
      waiver: z.object({ id: z.number().int(), code: z.string(), path: z.array(z.string()), approved_at: z.string() }).optional(),
    }),
  ),
  /**
   * The companion row-hash file (per-bucket digests, and each row's key and md5), for naming changed rows; null when not
   * written. Its own format is versioned: `sensei-row-hashes/2` holds each row's full md5 (32 hex digits), the earlier
   * `/1` its first 16 (both are read; see tools/certification/row-hash-file.ts).
   */
  row_hashes: z.object({ file: z.string(), sha256: Hex64 }).nullable(),
  chain: z.object({
    source_snapshot: z.string(),
    plan: z.string(),
    execution: z.string(),
    target_state: z.string(),
    /** sha256 over the previous links in order: anyone can recompute it. */
    links: z.array(z.string()),
    final: z.string(),
  }),
}).superRefine((p, ctx) => {
  // Which bucket hash a table used must be said exactly where the format says it is.
  const v3 = p.format === 'sensei-certificate/3';
  p.tables.forEach((t, i) => {
    if (v3 && t.bucket_hash === undefined) ctx.addIssue({ code: 'custom', path: ['tables', i, 'bucket_hash'], message: 'required in sensei-certificate/3' });
    if (!v3 && t.bucket_hash !== undefined) ctx.addIssue({ code: 'custom', path: ['tables', i, 'bucket_hash'], message: 'not a field of sensei-certificate/2' });
  });
});
export type CertificatePayload = z.infer<typeof CertificatePayload>;

export const Certificate = z.object({
  payload: CertificatePayload,
  signature: z.object({
    algorithm: z.literal('ed25519'),
    /** SPKI public key, base64 DER. */
    public_key: z.string(),
    /** sha256 of the DER public key, hex: compare with the key you trust. */
    key_fingerprint: z.string(),
    /** Signature over the canonical JSON of `payload`, base64. */
    value: z.string(),
  }),
});
export type Certificate = z.infer<typeof Certificate>;
