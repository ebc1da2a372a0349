// Signs a certificate payload with the home's Ed25519 key and writes it in its one canonical text form.
import { sign } from 'node:crypto';
import { Certificate, CertificatePayload } from '../../core/certificate.js';
import { CertificateError } from '../../core/errors.js';
import { canonicalJson } from './canonical-json.js';
import { checkChainInputs, checkHashChain } from './hash-chain.js';
import type { SigningKey } from './signing-key.js';

/**
 * Validate `payload` against the certificate format and sign the canonical JSON of it. Fields the format does not
 * define are dropped before signing. Throws CertificateError when the payload does not match the format (the
 * message names each field) or its hash chain does not recompute (such a certificate could never verify).
 */
export function signCertificate(payload: CertificatePayload, key: Pick<SigningKey, 'privateKey' | 'publicKeyDer' | 'fingerprint'>): Certificate {
  const parsed = CertificatePayload.safeParse(payload);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
    throw new CertificateError(`cannot sign: the certificate payload is invalid (${fields.join('; ')})`, {
      hint: 'build the payload with the fields of core/certificate.ts CertificatePayload',
    });
  }
  const chainProblems = [...checkHashChain(parsed.data.chain), ...checkChainInputs(parsed.data)];
  if (chainProblems.length > 0) {
    throw new CertificateError(`cannot sign: the payload's hash chain is broken (${chainProblems.join('; ')})`, {
      hint: 'build payload.chain with buildHashChain from the four digests',
    });
  }
  const value = sign(null, Buffer.from(canonicalJson(parsed.data), 'utf8'), key.privateKey);
  return Certificate.parse({
    payload: parsed.data,
    signature: {
      algorithm: 'ed25519',
      public_key: key.publicKeyDer.toString('base64'),
      key_fingerprint: key.fingerprint,
      value: value.toString('base64'),
    },
  });
}

/** The certificate file's text: its canonical JSON and one newline. The verifier accepts exactly this text. */
export function serializeCertificate(cert: Certificate): string {
  return `${canonicalJson(cert)}\n`;
}
