// vault:// credentials and ssl through the built CLI: the secret and the token appear nowhere a run writes.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../fixtures/cli.js';
import { createPgDatabase, tempDir, type TempDatabase } from '../fixtures/databases.js';
import { loadLibrarySqlite } from '../fixtures/library-source.js';
import { homeWithStore } from '../fixtures/store-template.js';

const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });

describe('vault:// credentials and ssl', () => {
  const dir = tempDir('sensei-vault-');
  const home = homeWithStore(join(dir.path, 'home'));
  // The test server trusts every connection: any password is accepted, so what matters is where it ends up.
  const SECRET = 'vault-pw-91c2e7-never-stored';
  const TOKEN = 'hvs.cli-token-5d1f0a';
  let server: Server;
  let vaultAddr: string;
  let target: TempDatabase;
  const reads: string[] = [];

  beforeAll(async () => {
    // A local server speaking the Vault KV v2 HTTP API.
    server = createServer((req, res) => {
      reads.push(req.url ?? '');
      if (req.headers['x-vault-token'] !== TOKEN) return void res.writeHead(403).end('{"errors":["permission denied"]}');
      if (req.url !== '/v1/kv/data/sensei/target') return void res.writeHead(404).end('{"errors":[]}');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { data: { password: SECRET }, metadata: { version: 1 } } }));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    vaultAddr = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    loadLibrarySqlite(join(dir.path, 'library.db'));
    target = await createPgDatabase();
  });
  afterAll(async () => {
    await new Promise<void>((ok) => server.close(() => ok()));
    await target?.drop();
    dir.remove();
  });

  const config = (ssl: string) =>
    `source:\n  url: sqlite:library.db\ntarget:\n  type: postgres\n  host: 127.0.0.1\n  port: 5432\n  database: ${target.name}\n  user: postgres\n  credentials: vault://kv/sensei/target#password\n  ssl: ${ssl}\n`;

  it('honours ssl: require — a server without TLS is refused, naming neither secret nor token', async () => {
    writeFileSync(join(dir.path, 'require.yaml'), config('require'));
    const r = await runCli(['migrate', '-c', join(dir.path, 'require.yaml'), '--json'], { home, env: { VAULT_ADDR: vaultAddr, VAULT_TOKEN: TOKEN } });
    expect(r.code).toBe(1);
    expect(r.json.error.message).toMatch(/SSL/i);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
  }, 120_000);

  it('migrates with the password from Vault and leaves no trace of it or the token in the output or SENSEI_HOME', async () => {
    writeFileSync(join(dir.path, 'sensei.yaml'), config('disable'));
    reads.length = 0;
    const r = await runCli(['migrate', '-c', join(dir.path, 'sensei.yaml'), '--json'], { home, env: { VAULT_ADDR: vaultAddr, VAULT_TOKEN: TOKEN } });
    expect(r.code).toBe(0);
    expect(reads).toContain('/v1/kv/data/sensei/target');
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
    const files = filesUnder(home);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const bytes = readFileSync(f);
      expect(bytes.includes(Buffer.from(SECRET)), f).toBe(false);
      expect(bytes.includes(Buffer.from(TOKEN)), f).toBe(false);
    }
  }, 180_000);
});
