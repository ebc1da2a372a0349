// Certificates: canonical JSON, the signing key, the hash chain, signing, and a verifier that catches any changed byte.
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CertificatePayload } from '../../core/certificate.js';
import { CertificateError, ConfigError } from '../../core/errors.js';
import { canonicalJson, sha256Hex } from '../../tools/certification/canonical-json.js';
import { serializeCertificate, signCertificate } from '../../tools/certification/certificate-signer.js';
import { verifyCertificateText } from '../../tools/certification/certificate-verifier.js';
import { buildHashChain, chainInputsOf, checkHashChain } from '../../tools/certification/hash-chain.js';
import { loadSigningKey, type SigningKey } from '../../tools/certification/signing-key.js';
import { tempDir } from '../fixtures/databases.js';

const temps: Array<{ remove(): void }> = [];
function newHome(): string {
  const d = tempDir('sensei-cert-');
  temps.push(d);
  return d.path;
}
afterAll(() => {
  for (const d of temps.splice(0)) d.remove();
});

const h = (s: string) => sha256Hex(s);

function payload(): CertificatePayload {
  const plan: CertificatePayload['plan'] = {
    tables: [],
    unmappedSource: [],
    unmappedTarget: [],
    phases: [['customers']],
    cyclic: [],
    targetDdl: [],
    targetSchemaSource: 'existing',
    thresholds: { autoApproveAbove: 0.95, reviewAbove: 0.8 },
    warnings: [],
  };
  const tables: CertificatePayload['tables'] = [
    {
      source: 'customers',
      target: 'customers',
      rows_read: 3,
      rows_written: 2,
      rows_errored: 1,
      source_sha256: h('s'),
      columns: [{ name: 'id', type: 'integer' }],
      key: ['id'],
      buckets: 1,
      bucket_hash: 'hashtextextended',
      rows_captured: 2,
      captured_root: h('c'),
      target_root: h('t'),
    },
  ];
  return {
    format: 'sensei-certificate/3',
    run_id: 'run_1',
    issued_at: '2024-05-01T10:00:00.000Z',
    captured_at: '2024-05-01T09:59:30.000Z',
    source: { dialect: 'mysql', database: 'shop' },
    target: { dialect: 'postgres', database: 'shop_pg' },
    plan,
    tables,
    coverage: { tables: 1, columns_mapped: 4, rows_read: 3, rows_written: 2, rows_errored: 1, rows_compared: 2, rules: 0, queries: 0 },
    approval: { by: 'dana', at: '2024-05-01T09:59:00.000Z' },
    verification: { passed: true, checks: [{ perspective: 'structural', check: 'tables', passed: true, checked: 1, findings: [] }] },
    exceptions: [
      { table: 'customers', count: 1, reason: 'café – naïve "quote"', approved_by: null },
      {
        table: 'queries', count: 1, reason: 'waived query_mismatch: rounding of averages differs by design', approved_by: 'erin',
        waiver: { id: 3, code: 'query_mismatch', path: ['queries', 'avg price'], approved_at: '2024-05-01T10:30:00.000Z' },
      },
    ],
    row_hashes: null,
    chain: buildHashChain(chainInputsOf({ tables, plan })),
  };
}

/** A signing key outside any home, for "someone else signed it". */
function foreignKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicKeyDer = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return { privateKey, publicKeyDer, fingerprint: sha256Hex(publicKeyDer), path: '(memory)' };
}

function problemsOf(text: string | Uint8Array, options?: { trustedFingerprint?: string }): string[] {
  const r = verifyCertificateText(text, options);
  return r.valid ? [] : r.problems;
}

describe('canonicalJson', () => {
  it('sorts keys by code point at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [3, { z: null, y: true }], '': 'e' })).toBe('{"":"e","a":[3,{"y":true,"z":null}],"b":1}');
    // U+FF5E sorts before U+1F600 by code point, though its UTF-16 unit (0xFF5E) is above the surrogate 0xD83D.
    expect(canonicalJson({ '\u{1F600}': 1, '\uFF5E': 2, B: 3, a: 4 })).toBe('{"B":3,"a":4,"～":2,"😀":1}');
  });

  it('escapes strings and prints numbers as JSON.stringify does', () => {
    const s = 'quote " backslash \\ newline \n tab \t nul \u0000 lone \uD800 é';
    expect(canonicalJson(s)).toBe(JSON.stringify(s));
    expect(canonicalJson([0, -0, 1.5, 1e21, 1e-7, -12])).toBe('[0,0,1.5,1e+21,1e-7,-12]');
    expect(canonicalJson(Object.create(null) as object)).toBe('{}');
  });

  it('rejects values without a JSON form, naming their path', () => {
    const cases: Array<[unknown, string]> = [
      [{ a: { b: undefined } }, '$.a.b'],
      [{ a: [1, () => 1] }, '$.a[1]'],
      [{ n: 10n }, '$.n'],
      [{ x: [NaN] }, '$.x[0]'],
      [{ x: Infinity }, '$.x'],
      [{ d: new Date(0) }, '$.d'],
      [{ b: Buffer.from('x') }, '$.b'],
      [{ s: Symbol('s') }, '$.s'],
    ];
    for (const [value, path] of cases) {
      expect(() => canonicalJson(value)).toThrow(CertificateError);
      expect(() => canonicalJson(value)).toThrow(`${path}:`);
    }
  });

  it('hashes with sha256 hex', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(Buffer.from('abc'))).toBe(sha256Hex('abc'));
  });
});

describe('hash chain', () => {
  it('links each digest to the one before, in order', () => {
    const chain = buildHashChain({ source_snapshot: 'a', plan: 'b', execution: 'c', target_state: 'd' });
    const l0 = h('a');
    const l1 = h(l0 + 'b');
    const l2 = h(l1 + 'c');
    const l3 = h(l2 + 'd');
    expect(chain).toEqual({ source_snapshot: 'a', plan: 'b', execution: 'c', target_state: 'd', links: [l0, l1, l2, l3], final: l3 });
    expect(checkHashChain(chain)).toEqual([]);
  });

  it('names each broken link', () => {
    const chain = buildHashChain({ source_snapshot: 'a', plan: 'b', execution: 'c', target_state: 'd' });
    expect(checkHashChain({ ...chain, execution: 'C' })).toEqual([
      'chain.links[2] does not match sha256(links[1] + execution)',
      'chain.links[3] does not match sha256(links[2] + target_state)',
      'chain.final does not match the last recomputed link',
    ]);
    expect(checkHashChain({ ...chain, links: chain.links.slice(0, 3) })).toEqual(['chain.links has 3 links, expected 4']);
    expect(checkHashChain({ ...chain, final: chain.links[0] as string })).toEqual(['chain.final does not match the last recomputed link']);
  });
});

describe('signing key', () => {
  it('is created once with mode 0600 and reused', () => {
    const home = newHome();
    const a = loadSigningKey(home);
    expect(a.path).toBe(join(home, 'keys', 'ed25519.pem'));
    expect(statSync(a.path).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'keys')).mode & 0o777).toBe(0o700);
    expect(readFileSync(a.path, 'utf8')).toContain('-----BEGIN PRIVATE KEY-----');
    expect(a.privateKey.asymmetricKeyType).toBe('ed25519');
    expect(a.fingerprint).toBe(sha256Hex(a.publicKeyDer));
    const b = loadSigningKey(home);
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(loadSigningKey(newHome()).fingerprint).not.toBe(a.fingerprint);
  });

  it('refuses a key file that is not an Ed25519 private key', () => {
    const home = newHome();
    mkdirSync(join(home, 'keys'), { recursive: true });
    writeFileSync(join(home, 'keys', 'ed25519.pem'), 'nonsense');
    expect(() => loadSigningKey(home)).toThrow(ConfigError);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    writeFileSync(join(home, 'keys', 'ed25519.pem'), rsa);
    expect(() => loadSigningKey(home)).toThrow(/rsa key, not Ed25519/);
  });
});

describe('signing and verifying', () => {
  const home = newHome();
  const key = loadSigningKey(home);
  const cert = signCertificate(payload(), key);
  const text = serializeCertificate(cert);

  it('signs a payload that then verifies, with the key fingerprint', () => {
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toBe(`${canonicalJson(cert)}\n`);
    expect(cert.signature).toMatchObject({ algorithm: 'ed25519', key_fingerprint: key.fingerprint, public_key: key.publicKeyDer.toString('base64') });
    const r = verifyCertificateText(text);
    expect(r).toEqual({ valid: true, certificate: cert, fingerprint: key.fingerprint });
    expect(verifyCertificateText(Buffer.from(text)).valid).toBe(true);
    expect(verifyCertificateText(text, { trustedFingerprint: key.fingerprint.toUpperCase() }).valid).toBe(true);
  });

  it('refuses to sign an invalid payload or a broken chain', () => {
    const bad = { ...payload(), tables: [{ ...payload().tables[0], rows_read: -1 }] } as CertificatePayload;
    expect(() => signCertificate(bad, key)).toThrow(/tables\.0\.rows_read/);
    const broken = { ...payload(), chain: { ...payload().chain, plan: h('other plan') } };
    expect(() => signCertificate(broken, key)).toThrow(CertificateError);
    expect(() => signCertificate(broken, key)).toThrow(/hash chain is broken/);
  });

  it('catches every changed byte of the file', () => {
    const bytes = Buffer.from(text, 'utf8');
    const accepted: string[] = [];
    for (let i = 0; i < bytes.length; i++) {
      for (const change of ['xor', 'space'] as const) {
        const altered = Buffer.from(bytes);
        if (change === 'xor') altered[i] = (altered[i] as number) ^ 0x01;
        else if (altered[i] === 0x20) continue;
        else altered[i] = 0x20;
        if (verifyCertificateText(altered).valid) accepted.push(`${change}@${i}`);
        if (verifyCertificateText(altered.toString('utf8')).valid) accepted.push(`${change}@${i} (as text)`);
      }
    }
    expect(bytes.length).toBeGreaterThan(1000);
    expect(accepted).toEqual([]);
  });

  it('reports non-canonical text with the first differing byte, even when the content is equal', () => {
    const pretty = `${JSON.stringify(JSON.parse(text), null, 2)}\n`;
    expect(problemsOf(pretty)).toEqual([`the file is not in canonical form: first difference at byte 1`]);
    // The exceptions' reason holds non-ASCII text before run_id: positions are bytes, not characters.
    expect(Buffer.byteLength(text)).toBeGreaterThan(text.length);
    const escaped = text.replace('"run_1"', '"run\\u005f1"');
    expect(problemsOf(escaped)).toEqual([`the file is not in canonical form: first difference at byte ${Buffer.from(text).indexOf('"run_1"') + 4}`]);
    expect(problemsOf(text.trimEnd())).toEqual([`the file is not in canonical form: first difference at byte ${Buffer.byteLength(text) - 1}`]);
    expect(problemsOf(`${text}\n`)).toEqual([`the file is not in canonical form: first difference at byte ${Buffer.byteLength(text)}`]);
  });

  it('reports a re-serialized change of a row count as a signature problem', () => {
    const tampered = structuredClone(cert);
    (tampered.payload.tables[0] as { rows_written: number }).rows_written = 3;
    expect(problemsOf(serializeCertificate(tampered))).toEqual([
      'signature.value does not verify: the payload was changed after signing or signed with another key',
      'chain.execution does not match the payload (tables[] row counts)',
      'chain.target_state does not match the payload (tables[] rows and roots)',
    ]);
  });

  it('reports each tampered payload field: the signature fails, and a table root or the plan also breaks the chain', () => {
    const fields: Array<[string, (p: CertificatePayload) => void, string[]]> = [
      ['run_id', (p) => (p.run_id = 'run_2'), []],
      ['issued_at', (p) => (p.issued_at = '2030-01-01T00:00:00.000Z'), []],
      ['captured_at', (p) => (p.captured_at = null), []],
      ['source', (p) => (p.source.database = 'other'), []],
      ['target', (p) => (p.target.database = 'other'), []],
      ['coverage', (p) => (p.coverage.rows_compared = 9), []],
      ['approval', (p) => (p.approval.by = 'mallory'), []],
      ['verification', (p) => (p.verification.passed = false), []],
      ['exceptions', (p) => (p.exceptions[0]!.approved_by = 'mallory'), []],
      ['waiver approver', (p) => (p.exceptions[1]!.approved_by = 'mallory'), []],
      ['waiver reason', (p) => (p.exceptions[1]!.reason = 'waived query_mismatch: whatever'), []],
      ['waiver finding', (p) => (p.exceptions[1]!.waiver!.path = ['queries', 'other']), []],
      ['waiver dropped', (p) => p.exceptions.pop(), []],
      ['row_hashes', (p) => (p.row_hashes = { file: 'x.rows.json.gz', sha256: h('x') }), []],
      ['plan', (p) => (p.plan.warnings = ['forged']), ['chain.plan does not match the payload (plan)']],
      ['captured_root', (p) => (p.tables[0]!.captured_root = h('forged')), ['chain.source_snapshot does not match the payload (tables[] rows and roots)']],
      ['target_root', (p) => (p.tables[0]!.target_root = h('forged')), ['chain.target_state does not match the payload (tables[] rows and roots)']],
      ['key', (p) => (p.tables[0]!.key = []), ['chain.target_state does not match the payload (tables[] rows and roots)']],
      ['bucket_hash', (p) => (p.tables[0]!.bucket_hash = 'md5'), ['chain.target_state does not match the payload (tables[] rows and roots)']],
      ['chain.final', (p) => (p.chain.final = h('forged')), ['chain.final does not match the last recomputed link']],
    ];
    for (const [name, change, extra] of fields) {
      const tampered = structuredClone(cert);
      change(tampered.payload);
      expect(problemsOf(serializeCertificate(tampered)), name).toEqual([
        'signature.value does not verify: the payload was changed after signing or signed with another key',
        ...extra,
      ]);
    }
  });

  it('reads a sensei-certificate/2 (md5 buckets, no bucket_hash), and wants bucket_hash exactly where /3 has it', () => {
    // A /2 certificate as issued before the bucket hash was named: its chain is made without the field.
    const v2 = payload();
    v2.format = 'sensei-certificate/2';
    delete v2.tables[0]!.bucket_hash;
    v2.chain = buildHashChain(chainInputsOf(v2));
    const r = verifyCertificateText(serializeCertificate(signCertificate(v2, key)));
    expect(r.valid).toBe(true);
    // Signing checks the schema: a /3 table without its bucket hash, or a /2 table with one, is refused by name.
    const v3Missing = payload();
    delete v3Missing.tables[0]!.bucket_hash;
    v3Missing.chain = buildHashChain(chainInputsOf(v3Missing));
    expect(() => signCertificate(v3Missing, key)).toThrow(/tables\.0\.bucket_hash: required in sensei-certificate\/3/);
    const v2With = payload();
    v2With.format = 'sensei-certificate/2';
    expect(() => signCertificate(v2With, key)).toThrow(/tables\.0\.bucket_hash: not a field of sensei-certificate\/2/);
  });

  it('reports a certificate re-signed with another key when a fingerprint is trusted', () => {
    const other = foreignKey();
    const resigned = serializeCertificate(signCertificate(cert.payload, other));
    expect(verifyCertificateText(resigned)).toMatchObject({ valid: true, fingerprint: other.fingerprint });
    expect(problemsOf(resigned, { trustedFingerprint: key.fingerprint })).toEqual([
      `the certificate was signed by key ${other.fingerprint}, not by the trusted key ${key.fingerprint}`,
    ]);
  });

  it('reports a swapped public key whose fingerprint no longer matches', () => {
    const tampered = structuredClone(cert);
    tampered.signature.public_key = foreignKey().publicKeyDer.toString('base64');
    const problems = problemsOf(serializeCertificate(tampered));
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^signature\.key_fingerprint does not match the public key/);
    expect(problems[1]).toMatch(/^signature\.value does not verify/);
  });

  it('reports a broken chain link besides the signature', () => {
    const tampered = structuredClone(cert);
    tampered.payload.chain.links[1] = h('forged');
    expect(problemsOf(serializeCertificate(tampered))).toEqual([
      'signature.value does not verify: the payload was changed after signing or signed with another key',
      'chain.links[1] does not match sha256(links[0] + plan)',
    ]);
  });

  it('names schema fields that are wrong or unknown, and never throws on junk', () => {
    const wrong = structuredClone(cert) as unknown as { payload: Record<string, unknown>; signature: Record<string, unknown> };
    wrong.payload.format = 'sensei-certificate/1';
    wrong.payload.extra = 1;
    delete wrong.signature.algorithm;
    const problems = problemsOf(`${canonicalJson(wrong)}\n`);
    expect(problems.some((p) => p.startsWith('payload.format: ') && p.includes('sensei-certificate/3'))).toBe(true);
    expect(problems.some((p) => p.startsWith('signature.algorithm:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('signature.value does not verify'))).toBe(true);

    const extraOnly = structuredClone(cert) as unknown as Record<string, unknown>;
    extraOnly.note = 'hi';
    expect(problemsOf(`${canonicalJson(extraOnly)}\n`)).toEqual(['note: not a field of the certificate format']);

    for (const junk of ['', 'null', '[]', '{"payload":1}', '1e999\n', '{', '\uFEFF{}', 'true\n']) {
      const r = verifyCertificateText(junk);
      expect(r.valid, junk).toBe(false);
      if (!r.valid) expect(r.problems.length, junk).toBeGreaterThan(0);
    }
    expect(problemsOf(Buffer.from([0x7b, 0xff, 0x7d]))).toEqual(['the file is not valid UTF-8 text']);
    expect(problemsOf('{"a":1')[0]).toMatch(/^the file is not JSON:/);
  });
});
