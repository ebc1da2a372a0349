// The Ed25519 key that signs this Sensei home's certificates, created on first use.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { sha256Hex } from './canonical-json.js';

export interface SigningKey {
  privateKey: KeyObject;
  /** SPKI DER of the public key: what a certificate carries. */
  publicKeyDer: Buffer;
  /** sha256 of `publicKeyDer`, lowercase hex: what a verifier compares with the key it trusts. */
  fingerprint: string;
  /** The PEM file the key lives in. */
  path: string;
}

/**
 * The signing key of a Sensei home: `<home>/keys/ed25519.pem` (PKCS#8 PEM, mode 0600, directory 0700), generated on
 * first use and reused afterwards. Throws ConfigError when the file exists but is not an Ed25519 private key.
 */
export function loadSigningKey(home: string): SigningKey {
  const dir = join(home, 'keys');
  const path = join(dir, 'ed25519.pem');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    const { privateKey } = generateKeyPairSync('ed25519');
    // `wx`: if two processes start together, one key wins and both use it.
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { flag: 'wx', mode: 0o600 });
    chmodSync(path, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new ConfigError(`cannot create the signing key ${path}: ${(e as Error).message}`, {
        hint: 'make the Sensei home (SENSEI_HOME) writable',
        cause: e,
      });
    }
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(path));
  } catch (e) {
    throw new ConfigError(`the signing key ${path} cannot be read as a private key`, {
      hint: 'restore the original key file; deleting it makes Sensei create a new key, whose fingerprint verifiers must then trust',
      cause: e,
    });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError(`the signing key ${path} is a ${privateKey.asymmetricKeyType ?? 'unknown'} key, not Ed25519`, {
      hint: 'certificates are signed with Ed25519: restore the original key file or remove it to create a new one',
    });
  }
  const publicKeyDer = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return { privateKey, publicKeyDer, fingerprint: sha256Hex(publicKeyDer), path };
}
