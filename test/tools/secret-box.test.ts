// The secret box: AES-256-GCM round trips, key sources, key file permissions, and refusal of wrong keys or altered bytes.
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, StoreError } from '../../core/errors.js';
import { loadSecretBox } from '../../tools/store/secret-box.js';
import { tempDir } from '../fixtures/databases.js';

const dirs: Array<{ remove(): void }> = [];
function home(): string {
  const d = tempDir('sensei-box-');
  dirs.push(d);
  return d.path;
}
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const noEnv = {} as NodeJS.ProcessEnv;

describe('loadSecretBox', () => {
  it('round-trips JSON values, bigints and bytes exactly', () => {
    const box = loadSecretBox(home(), noEnv);
    const value = {
      key: [42n, 'k-1'],
      row: [9007199254740993n, Buffer.from([0, 1, 254, 255]), 'alice@example.com', null, 1.5, true],
      reason: 'value too long',
    };
    const sealed = box.seal(value);
    const opened = box.open(sealed) as typeof value;
    expect(opened).toEqual(value);
    expect(typeof opened.key[0]).toBe('bigint');
    expect(Buffer.isBuffer(opened.row[1])).toBe(true);
    expect(box.open(box.seal(undefined))).toBeNull();
  });

  it('seals bytes on their own (a capture chunk) as it seals them inside a value, a view of a larger buffer included', () => {
    const box = loadSecretBox(home(), noEnv);
    const whole = Buffer.from([9, 8, 7, 0, 1, 254, 255, 6]);
    const view = whole.subarray(3, 7);
    const opened = box.open(box.seal(view));
    expect(Buffer.isBuffer(opened)).toBe(true);
    expect(opened).toEqual(Buffer.from([0, 1, 254, 255]));
    expect(box.open(box.seal(new Uint8Array([5, 4])))).toEqual(Buffer.from([5, 4]));
    expect(box.open(box.seal(Buffer.alloc(0)))).toEqual(Buffer.alloc(0));
  });

  it('writes version byte + 12-byte IV + 16-byte tag + ciphertext, with a fresh IV per message', () => {
    const box = loadSecretBox(home(), noEnv);
    const a = box.seal('alice@example.com');
    const b = box.seal('alice@example.com');
    expect(a[0]).toBe(1);
    expect(a.length).toBe(1 + 12 + 16 + Buffer.byteLength(JSON.stringify('alice@example.com')));
    expect(a.subarray(1, 13).equals(b.subarray(1, 13))).toBe(false);
    expect(a.equals(b)).toBe(false);
    expect(a.toString('latin1')).not.toContain('alice');
  });

  it('creates the key file once with mode 0600 in a 0700 directory and reuses it', () => {
    const h = home();
    const sealed = loadSecretBox(h, noEnv).seal({ secret: 'x' });
    const keyPath = join(h, 'keys', 'encryption.key');
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    expect(statSync(join(h, 'keys')).mode & 0o777).toBe(0o700);
    const keyText = readFileSync(keyPath, 'utf8');
    expect(keyText).toMatch(/^[0-9a-f]{64}\n$/);
    const again = loadSecretBox(h, noEnv);
    expect(again.keySource).toBe(keyPath);
    expect(again.open(sealed)).toEqual({ secret: 'x' });
    expect(readFileSync(keyPath, 'utf8')).toBe(keyText);
  });

  it('takes SENSEI_ENCRYPTION_KEY as hex or base64 and then writes no key file', () => {
    const key = randomBytes(32);
    const h = home();
    const hexBox = loadSecretBox(h, { SENSEI_ENCRYPTION_KEY: key.toString('hex') });
    const b64Box = loadSecretBox(h, { SENSEI_ENCRYPTION_KEY: key.toString('base64') });
    expect(hexBox.keySource).toBe('SENSEI_ENCRYPTION_KEY');
    expect(b64Box.open(hexBox.seal([1, 'two']))).toEqual([1, 'two']);
    expect(() => statSync(join(h, 'keys', 'encryption.key'))).toThrow();
  });

  it('refuses a malformed SENSEI_ENCRYPTION_KEY without echoing it', () => {
    const bad = ['correct horse battery staple', 'ab'.repeat(31), randomBytes(16).toString('base64'), 'zz'.repeat(32)];
    for (const value of bad) {
      let err: unknown;
      try {
        loadSecretBox(home(), { SENSEI_ENCRYPTION_KEY: value });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      const e = err as ConfigError;
      expect(e.message).toContain('SENSEI_ENCRYPTION_KEY');
      expect(e.message).toContain('64 hex characters or base64 of 32 bytes');
      expect(e.hint).toContain('openssl rand -hex 32');
      expect(`${e.message} ${e.hint}`).not.toContain(value);
    }
  });

  it('refuses a damaged key file with a ConfigError naming the file', () => {
    const h = home();
    mkdirSync(join(h, 'keys'), { recursive: true });
    writeFileSync(join(h, 'keys', 'encryption.key'), 'not a key\n');
    expect(() => loadSecretBox(h, noEnv)).toThrow(ConfigError);
    expect(() => loadSecretBox(h, noEnv)).toThrow(join(h, 'keys', 'encryption.key'));
  });

  it('cannot open with another key', () => {
    const sealed = loadSecretBox(home(), noEnv).seal({ row: ['alice@example.com'] });
    const other = loadSecretBox(home(), noEnv);
    expect(() => other.open(sealed)).toThrow(StoreError);
    expect(() => other.open(sealed)).toThrow('cannot decrypt error-queue entry: wrong SENSEI_ENCRYPTION_KEY or altered data');
  });

  it('detects any altered byte, truncation, and a foreign context', () => {
    const box = loadSecretBox(home(), noEnv);
    const sealed = box.seal({ row: ['alice@example.com'] }, 'run-1');
    expect(box.open(sealed, 'run-1')).toEqual({ row: ['alice@example.com'] });
    for (let i = 0; i < sealed.length; i++) {
      const altered = Buffer.from(sealed);
      altered[i] = (altered[i] as number) ^ 0x01;
      expect(() => box.open(altered, 'run-1'), `byte ${i}`).toThrow(StoreError);
    }
    expect(() => box.open(sealed.subarray(0, 20), 'run-1')).toThrow(StoreError);
    expect(() => box.open(sealed, 'run-2')).toThrow(StoreError);
    expect(() => box.open(sealed)).toThrow(StoreError);
  });
});
