// Checks a certificate file: canonical bytes, format, key fingerprint, Ed25519 signature, hash chain, trusted key.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { Certificate, CertificatePayload } from '../../core/certificate.js';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import { checkChainInputs, checkHashChain } from './hash-chain.js';

export interface VerifyOptions {
  /** sha256 hex of the public key you trust (colons, spaces and case are ignored). Default: no key is required. */
  trustedFingerprint?: string;
}

export type VerifyResult =
  | { valid: true; certificate: Certificate; fingerprint: string }
  | { valid: false; problems: string[] };

/**
 * Verify a certificate file's content (a string, or the raw bytes, which must be UTF-8). Never throws for bad input:
 * every problem found is listed. Checks, in order: it is JSON; it is byte for byte its canonical serialization (so
 * any changed byte, whitespace or an equivalent escape included, is caught); it matches the certificate format; the
 * public key's sha256 equals `signature.key_fingerprint`; the signature verifies over the canonical JSON of
 * `payload`; the hash chain recomputes; and, when `trustedFingerprint` is given, the key is that key. Without a
 * trusted fingerprint a valid result proves integrity, not who signed: compare `fingerprint` with a key you trust.
 */
export function verifyCertificateText(text: string | Uint8Array, options: VerifyOptions = {}): VerifyResult {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text);
  let str: string;
  try {
    str = typeof text === 'string' ? text : new TextDecoder('utf-8', { fatal: true }).decode(text);
  } catch {
    return { valid: false, problems: ['the file is not valid UTF-8 text'] };
  }

  let raw: unknown;
  try {
    raw = JSON.parse(str);
  } catch (e) {
    return { valid: false, problems: [`the file is not JSON: ${(e as Error).message}`] };
  }

  const problems: string[] = [];
  try {
    const canonical = Buffer.from(`${canonicalJson(raw)}\n`, 'utf8');
    const at = firstDifference(bytes, canonical);
    if (at !== -1) problems.push(`the file is not in canonical form: first difference at byte ${at}`);
  } catch (e) {
    problems.push(`the file is not in canonical form: ${(e as Error).message}`);
  }

  const parsed = Certificate.safeParse(raw);
  if (parsed.success) {
    for (const path of extraFields(raw, parsed.data, '')) problems.push(`${path}: not a field of the certificate format`);
  } else {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  }

  const signature = field(raw, 'signature');
  const payload = field(raw, 'payload');
  const publicKeyB64 = field(signature, 'public_key');
  const claimedFingerprint = field(signature, 'key_fingerprint');
  const signatureB64 = field(signature, 'value');

  let fingerprint: string | undefined;
  let publicKey: KeyObject | undefined;
  if (typeof publicKeyB64 === 'string') {
    const der = strictBase64(publicKeyB64);
    if (der === null) {
      problems.push('signature.public_key is not canonical base64');
    } else {
      fingerprint = sha256Hex(der);
      if (typeof claimedFingerprint === 'string' && claimedFingerprint !== fingerprint) {
        problems.push(`signature.key_fingerprint does not match the public key (its sha256 is ${fingerprint})`);
      }
      try {
        publicKey = createPublicKey({ key: der, format: 'der', type: 'spki' });
        if (publicKey.asymmetricKeyType !== 'ed25519') {
          problems.push(`signature.public_key is a ${publicKey.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
          publicKey = undefined;
        }
      } catch {
        problems.push('signature.public_key is not a DER SPKI public key');
      }
    }
  }

  if (publicKey && typeof signatureB64 === 'string' && payload !== undefined) {
    const sig = strictBase64(signatureB64);
    if (sig === null) {
      problems.push('signature.value is not canonical base64');
    } else {
      let signed: Buffer | undefined;
      try {
        signed = Buffer.from(canonicalJson(payload), 'utf8');
      } catch (e) {
        problems.push(`payload cannot be written as canonical JSON: ${(e as Error).message}`);
      }
      if (signed && !safeVerify(signed, publicKey, sig)) {
        problems.push('signature.value does not verify: the payload was changed after signing or signed with another key');
      }
    }
  }

  const chain = CertificatePayload.shape.chain.safeParse(field(payload, 'chain'));
  if (chain.success) problems.push(...checkHashChain(chain.data));
  if (parsed.success) problems.push(...checkChainInputs(parsed.data.payload));

  if (options.trustedFingerprint !== undefined) {
    const trusted = options.trustedFingerprint.replace(/[\s:]/g, '').toLowerCase();
    if (fingerprint !== trusted) {
      problems.push(`the certificate was signed by key ${fingerprint ?? '(unreadable)'}, not by the trusted key ${trusted}`);
    }
  }

  if (problems.length > 0 || !parsed.success || fingerprint === undefined) {
    return { valid: false, problems: problems.length > 0 ? problems : ['the certificate could not be checked'] };
  }
  return { valid: true, certificate: parsed.data, fingerprint };
}

function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function field(obj: unknown, name: string): unknown {
  return obj !== null && typeof obj === 'object' && !Array.isArray(obj) ? (obj as Record<string, unknown>)[name] : undefined;
}

// Node's base64 decoder ignores stray characters and unused trailing bits; a changed byte there must still count.
function strictBase64(s: string): Buffer | null {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  const buf = Buffer.from(s, 'base64');
  return buf.toString('base64') === s ? buf : null;
}

function safeVerify(data: Buffer, key: KeyObject, sig: Buffer): boolean {
  try {
    return verify(null, data, key, sig);
  } catch {
    return false;
  }
}

/** Paths present in `raw` that schema parsing dropped (zod objects strip unknown keys). */
function extraFields(raw: unknown, parsed: unknown, path: string): string[] {
  if (Array.isArray(raw) && Array.isArray(parsed)) {
    return raw.flatMap((v, i) => extraFields(v, parsed[i], `${path}[${i}]`));
  }
  if (raw === null || typeof raw !== 'object' || parsed === null || typeof parsed !== 'object') return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(raw)) {
    const p = path ? `${path}.${k}` : k;
    if (!(k in parsed)) out.push(p);
    else out.push(...extraFields(v, (parsed as Record<string, unknown>)[k], p));
  }
  return out;
}
