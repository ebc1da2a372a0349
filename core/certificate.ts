// The Behavioral Equivalence Certificate: what was migrated, how it was checked, signed with Ed25519.
import { z } from 'zod';
import { CheckResult } from './findings.js';

export const CertificateTable = z.object({
  source: z.string(),
  target: z.string(),
  rows_read: z.number().int().nonnegative(),
  rows_written: z.number().int().nonnegative(),
  rows_errored: z.number().int().nonnegative(),
  source_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  target_sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type CertificateTable = z.infer<typeof CertificateTable>;

/** The signed content. Every field is covered by the signature and, through the chain, by `chain.final`. */
export const CertificatePayload = z.object({
  format: z.literal('sensei-certificate/1'),
  run_id: z.string(),
  issued_at: z.string(),
  source: z.object({ dialect: z.string(), database: z.string() }),
  target: z.object({ dialect: z.string(), database: z.string() }),
  tables: z.array(CertificateTable),
  coverage: z.object({
    tables: z.number().int().nonnegative(),
    columns_mapped: z.number().int().nonnegative(),
    rows_read: z.number().int().nonnegative(),
    rows_written: z.number().int().nonnegative(),
    rows_errored: z.number().int().nonnegative(),
  }),
  approval: z.object({ by: z.string(), at: z.string() }),
  verification: z.object({ passed: z.boolean(), checks: z.array(CheckResult) }),
  exceptions: z.array(z.object({ table: z.string(), count: z.number().int().nonnegative(), reason: z.string() })),
  chain: z.object({
    source_snapshot: z.string(),
    plan: z.string(),
    execution: z.string(),
    target_state: z.string(),
    /** sha256 over the previous links in order: anyone can recompute it. */
    links: z.array(z.string()),
    final: z.string(),
  }),
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
