// Encryption at rest for values that may hold row data (the error queue): AES-256-GCM with a per-home key.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, StoreError } from '../../core/errors.js';

/** Seals values so that only a holder of the same key can read them back. */
export interface SecretBox {
  /**
   * Encrypt `value` (anything JSON can carry, plus `bigint` and `Buffer`/`Uint8Array`, which round-trip exactly).
   * `context`, when given, is bound to the message as associated data: `open` must be given the same context, so a
   * sealed payload cannot be moved to another record unnoticed. Default: no context.
   */
  seal(value: unknown, context?: string): Buffer;
  /** Decrypt a message from `seal`. Throws StoreError when the key is wrong or a byte was altered. */
  open(buf: Buffer, context?: string): unknown;
  /**
   * HMAC-SHA256 of `text` under a key derived from the box's key: an identifier for values (e.g. to deduplicate
   * error-queue entries) that reveals nothing about them to someone without the key.
   */
  mac(text: string): Buffer;
  /** Where the key came from: `SENSEI_ENCRYPTION_KEY` or the key file path. Never the key itself. */
  readonly keySource: string;
}

const FORMAT_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES;

const KEY_FORMAT_HINT =
  'set SENSEI_ENCRYPTION_KEY to 32 random bytes written as 64 hex characters or as base64 ' +
  '(e.g. `openssl rand -hex 32`), or unset it to use the key file in the Sensei home';

/**
 * The secret box of a Sensei home. The key is `SENSEI_ENCRYPTION_KEY` (64 hex characters, or base64 of 32 bytes)
 * when set in `env` (default `process.env`); otherwise `<home>/keys/encryption.key`, created on first use with mode
 * 0600 in a 0700 directory. Losing the key makes existing error-queue payloads unreadable.
 */
export function loadSecretBox(home: string, env: NodeJS.ProcessEnv = process.env): SecretBox {
  const fromEnv = env.SENSEI_ENCRYPTION_KEY;
  if (fromEnv !== undefined && fromEnv !== '') {
    const key = parseKey(fromEnv);
    if (!key) {
      throw new ConfigError('SENSEI_ENCRYPTION_KEY is not a 256-bit key (expected 64 hex characters or base64 of 32 bytes)', {
        hint: KEY_FORMAT_HINT,
      });
    }
    return createSecretBox(key, 'SENSEI_ENCRYPTION_KEY');
  }
  const path = join(home, 'keys', 'encryption.key');
  return createSecretBox(loadOrCreateKeyFile(path), path);
}

function parseKey(text: string): Buffer | null {
  const s = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(s)) return Buffer.from(s, 'hex');
  if (/^[A-Za-z0-9+/]{43}=$/.test(s) || /^[A-Za-z0-9_-]{43}=?$/.test(s)) {
    const key = Buffer.from(s, s.includes('-') || s.includes('_') ? 'base64url' : 'base64');
    if (key.length === 32) return key;
  }
  return null;
}

function loadOrCreateKeyFile(path: string): Buffer {
  const dir = join(path, '..');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    // `wx` makes creation atomic: two processes starting together end up sharing one key.
    writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
    chmodSync(path, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new ConfigError(`cannot create the encryption key file ${path}: ${(e as Error).message}`, {
        hint: 'make the Sensei home writable (SENSEI_HOME) or set SENSEI_ENCRYPTION_KEY',
        cause: e,
      });
    }
  }
  const key = parseKey(readFileSync(path, 'utf8'));
  if (!key) {
    throw new ConfigError(`the encryption key file ${path} does not hold a 256-bit key (64 hex characters)`, {
      hint: 'restore the original key file, or set SENSEI_ENCRYPTION_KEY; entries sealed with a lost key cannot be read',
    });
  }
  return key;
}

function createSecretBox(key: Buffer, keySource: string): SecretBox {
  const macKey = createHmac('sha256', key).update('sensei-mac-v1').digest();
  return {
    keySource,
    mac(text) {
      return createHmac('sha256', macKey).update(text, 'utf8').digest();
    },
    seal(value, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      if (context !== undefined) cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(encodeValue(value), 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.from([FORMAT_VERSION]), iv, cipher.getAuthTag(), body]);
    },
    open(buf, context) {
      if (buf.length < HEADER_BYTES || buf[0] !== FORMAT_VERSION) throw cannotDecrypt();
      const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(1, 1 + IV_BYTES));
      decipher.setAuthTag(buf.subarray(1 + IV_BYTES, HEADER_BYTES));
      if (context !== undefined) decipher.setAAD(Buffer.from(context, 'utf8'));
      let text: string;
      try {
        text = Buffer.concat([decipher.update(buf.subarray(HEADER_BYTES)), decipher.final()]).toString('utf8');
      } catch (e) {
        throw cannotDecrypt(e);
      }
      return decodeValue(text);
    },
  };
}

function cannotDecrypt(cause?: unknown): StoreError {
  return new StoreError('cannot decrypt error-queue entry: wrong SENSEI_ENCRYPTION_KEY or altered data', {
    hint: 'use the key the entry was written with (SENSEI_ENCRYPTION_KEY or <SENSEI_HOME>/keys/encryption.key)',
    cause,
  });
}

const BIGINT_TAG = '$sensei_bigint';
const BYTES_TAG = '$sensei_bytes';

// Row values include bigints and bytes, which plain JSON would throw on or mangle into `{type:'Buffer',data:[…]}`.
function encodeValue(value: unknown): string {
  // Bytes alone (a sealed capture chunk): the same text, without JSON.stringify first calling Buffer's toJSON, which
  // builds an array of every byte before the replacer below throws it away.
  if (value instanceof Uint8Array) return JSON.stringify({ [BYTES_TAG]: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') });
  const text = JSON.stringify(value, function (this: Record<string, unknown>, key, jsonValue: unknown) {
    // `this[key]` is the value before toJSON ran: a Buffer, not its `{type, data}` form.
    const original = this[key];
    if (typeof original === 'bigint') return { [BIGINT_TAG]: original.toString() };
    if (original instanceof Uint8Array) return { [BYTES_TAG]: Buffer.from(original).toString('base64') };
    return jsonValue;
  });
  // JSON.stringify(undefined) is undefined; keep the message well-formed.
  return text ?? 'null';
}

function decodeValue(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === BIGINT_TAG) return BigInt((v as Record<string, string>)[BIGINT_TAG] ?? '0');
      if (keys.length === 1 && keys[0] === BYTES_TAG) return Buffer.from((v as Record<string, string>)[BYTES_TAG] ?? '', 'base64');
    }
    return v;
  });
}
