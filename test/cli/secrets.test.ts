// Credentials are references: resolved in memory, never written to the store, a certificate or the output.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../fixtures/cli.js';
import { createPgDatabase, tempDir, type TempDatabase } from '../fixtures/databases.js';
import { loadLibrarySqlite } from '../fixtures/library-source.js';
import { homeWithStore } from '../fixtures/store-template.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('credentials by reference', () => {
  const dir = tempDir('sensei-secret-');
  const home = homeWithStore(join(dir.path, 'home'));
  // The test server trusts every connection, so any password is accepted: what matters is where it ends up.
  const SECRET = 'pw-7f3a9c-never-stored';
  let target: TempDatabase;

  beforeAll(async () => {
    loadLibrarySqlite(join(dir.path, 'library.db'));
    target = await createPgDatabase();
  });
  afterAll(async () => {
    await target?.drop();
    dir.remove();
  });

  it('resolves env:// credentials and leaves no trace of the secret in the store, the certificate or the output', async () => {
    writeFileSync(
      join(dir.path, 'sensei.yaml'),
      `source:\n  url: sqlite:library.db\ntarget:\n  type: postgres\n  host: 127.0.0.1\n  port: 5432\n  database: ${target.name}\n  user: postgres\n  credentials: env://SENSEI_TEST_TARGET_PW\n`,
    );
    const r = await runCli(['migrate', '-c', join(dir.path, 'sensei.yaml'), '--json'], { home, env: { SENSEI_TEST_TARGET_PW: SECRET } });
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    const files = filesUnder(home);
    expect(files.some((f) => f.includes(`${join('home', 'store')}`))).toBe(true);
    for (const f of files) {
      expect(readFileSync(f).includes(Buffer.from(SECRET)), f).toBe(false);
    }
  });

  it('a missing credential variable fails clearly, naming the variable', async () => {
    const r = await runCli(['migrate', '-c', join(dir.path, 'sensei.yaml'), '--json'], { home, env: { SENSEI_TEST_TARGET_PW: '' } });
    expect(r.code).not.toBe(0);
    expect(r.json.error.message).toMatch(/SENSEI_TEST_TARGET_PW/);
  });
});
