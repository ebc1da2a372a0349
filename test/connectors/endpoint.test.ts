// Endpoint resolution: URLs from config parts and credential references (env, file, Vault KV v2 over real HTTP).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EndpointConfig } from '../../core/config.js';
import { ConfigError, CredentialError, describeError, type SenseiError } from '../../core/errors.js';
import { redactUrl, resolveEndpoint, type ResolveEndpointOptions } from '../../connectors/endpoint.js';
import { openSource } from '../../connectors/open-source.js';
import { tempDir } from '../fixtures/databases.js';

const SECRET = 'pa:ss@w/rd#?%&x';
const dir = tempDir('sensei-endpoint-');
const source: ResolveEndpointOptions = { baseDir: dir.path, role: 'source' };
const target: ResolveEndpointOptions = { baseDir: dir.path, role: 'target' };
const touchedEnv = new Set<string>();

function setEnv(name: string, value: string | undefined): void {
  touchedEnv.add(name);
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

const saved = new Map(['VAULT_ADDR', 'VAULT_TOKEN'].map((k) => [k, process.env[k]]));
afterEach(() => {
  for (const name of touchedEnv) {
    if (saved.has(name) && saved.get(name) !== undefined) process.env[name] = saved.get(name);
    else delete process.env[name];
  }
  touchedEnv.clear();
});
afterAll(() => dir.remove());

/** The rejection of a promise, asserted to be of `type` and to leak none of `secrets` anywhere a person could see. */
async function failure<T extends SenseiError>(
  p: Promise<unknown>,
  type: new (...args: never[]) => T,
  secrets: string[] = [SECRET],
): Promise<T> {
  const e = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(type);
  const err = e as T;
  expect(err.hint, 'every error carries a hint').toBeTruthy();
  for (const s of secrets) {
    expect(describeError(err)).not.toContain(s);
    expect(JSON.stringify({ message: err.message, hint: err.hint })).not.toContain(s);
    expect(String(err.stack)).not.toContain(s);
  }
  return err;
}

const resolve = (cfg: EndpointConfig, opts: ResolveEndpointOptions = source) => resolveEndpoint(cfg, opts);

describe('redactUrl', () => {
  it('masks the user-info password and password parameters, and leaves other URLs alone', () => {
    expect(redactUrl('postgres://app:topsecret@db.example:5432/sales')).toBe('postgres://app:***@db.example:5432/sales');
    expect(redactUrl('mysql://root@127.0.0.1:3306/x')).toBe('mysql://root@127.0.0.1:3306/x');
    expect(redactUrl('postgres://db/x?user=a&password=hunter2&sslmode=require')).toBe(
      'postgres://db/x?user=a&password=***&sslmode=require',
    );
    expect(redactUrl('sqlite:///tmp/a.db')).toBe('sqlite:///tmp/a.db');
    expect(redactUrl('mysql://u:se%20cret@[::1:3306/x')).not.toContain('se%20cret');
  });
});

describe('resolveEndpoint with a url', () => {
  it('keeps a literal URL without a password', async () => {
    const r = await resolve({ url: 'postgres://app@db.example:5432/sales' });
    expect(r).toEqual({ url: 'postgres://app@db.example:5432/sales', redacted: 'postgres://app@db.example:5432/sales' });
  });

  it('refuses an inline password in a literal URL, naming the role', async () => {
    const err = await failure(resolve({ url: `mysql://root:${encodeURIComponent(SECRET)}@h/db` }), ConfigError, [
      SECRET,
      encodeURIComponent(SECRET),
    ]);
    expect(err.message).toMatch(/^source\.url contains an inline password/);
    expect(err.hint).toContain('credentials: env://NAME');
    const t = await failure(resolve({ url: 'postgres://h/db?password=hunter2' }, target), ConfigError, ['hunter2']);
    expect(t.message).toMatch(/^target\.url contains an inline password/);
  });

  it('adds the password from a credentials reference, percent-encoded, and redacts it', async () => {
    setEnv('SENSEI_T_DB_PASSWORD', SECRET);
    const r = await resolve({ url: 'postgres://app@db.example:5432/sales', credentials: 'env://SENSEI_T_DB_PASSWORD' });
    expect(decodeURIComponent(new URL(r.url).password)).toBe(SECRET);
    expect(r.redacted).toBe('postgres://app:***@db.example:5432/sales');
    expect(r.redacted).not.toContain(encodeURIComponent(SECRET));
  });

  it('resolves the URL itself from env:// and file: references, secrets included', async () => {
    setEnv('SENSEI_T_SOURCE_URL', 'mysql://root:hidden-pw@127.0.0.1:3306/shop');
    const fromEnv = await resolve({ url: 'env://SENSEI_T_SOURCE_URL' });
    expect(fromEnv.url).toBe('mysql://root:hidden-pw@127.0.0.1:3306/shop');
    expect(fromEnv.redacted).toBe('mysql://root:***@127.0.0.1:3306/shop');

    writeFileSync(join(dir.path, 'url.txt'), '  postgres://u:file-pw@h:5433/d \n');
    const fromFile = await resolve({ url: 'file:url.txt' });
    expect(fromFile.url).toBe('postgres://u:file-pw@h:5433/d');
    expect(fromFile.redacted).not.toContain('file-pw');
  });

  it('makes relative sqlite and pglite paths absolute against the config directory', async () => {
    expect((await resolve({ url: 'sqlite:data/app.db' })).url).toBe(`sqlite://${join(dir.path, 'data', 'app.db')}`);
    expect((await resolve({ url: 'sqlite:///var/lib/x.db' })).url).toBe('sqlite:///var/lib/x.db');
    expect((await resolve({ url: 'pglite:./store' }, target)).url).toBe(`pglite://${join(dir.path, 'store')}`);
    expect((await resolve({ url: 'sqlite:my data/a b.db' })).url).toBe(
      `sqlite://${join(dir.path, 'my%20data', 'a%20b.db')}`,
    );
  });

  it('refuses an unknown scheme, listing the supported ones', async () => {
    const err = await failure(resolve({ url: 'oracle://scott@h/orcl' }), ConfigError);
    expect(err.message).toContain('source.url');
    expect(err.message).toContain('oracle');
    expect(err.hint).toContain('postgres://');
    expect(err.hint).toContain('mysql://');
    expect(err.hint).toContain('sqlite://');
  });

  it('does not echo a resolved URL that turns out invalid', async () => {
    setEnv('SENSEI_T_BAD_URL', `nonsense-${SECRET}`);
    const err = await failure(resolve({ url: 'env://SENSEI_T_BAD_URL' }), ConfigError, [SECRET, `nonsense-${SECRET}`]);
    expect(err.message).toContain('env://SENSEI_T_BAD_URL');
  });
});

describe('resolveEndpoint from parts', () => {
  it('builds a MySQL URL with defaults and TLS mode', async () => {
    setEnv('SENSEI_T_PW', SECRET);
    const r = await resolve({ type: 'mysql', database: 'shop', user: 'app', credentials: 'env://SENSEI_T_PW', ssl: 'verify-full' });
    const u = new URL(r.url);
    expect([u.protocol, u.hostname, u.port, u.pathname, u.username]).toEqual(['mysql:', '127.0.0.1', '3306', '/shop', 'app']);
    expect(decodeURIComponent(u.password)).toBe(SECRET);
    expect(u.searchParams.get('ssl-mode')).toBe('VERIFY_IDENTITY');
    expect(r.redacted).toBe('mysql://app:***@127.0.0.1:3306/shop?ssl-mode=VERIFY_IDENTITY');
  });

  it('builds a PostgreSQL URL with host, port and sslmode', async () => {
    const r = await resolve({ type: 'postgres', host: 'db.internal', port: 6543, database: 'my db', user: 'me', ssl: true }, target);
    expect(r.url).toBe('postgres://me@db.internal:6543/my%20db?sslmode=require');
    expect(r.redacted).toBe(r.url);
  });

  it('builds a sqlite URL from a relative database path', async () => {
    expect((await resolve({ type: 'sqlite', database: 'legacy.db' })).url).toBe(`sqlite://${join(dir.path, 'legacy.db')}`);
  });

  it('refuses incomplete or contradictory parts', async () => {
    expect((await failure(resolve({ host: 'h' }), ConfigError)).message).toMatch(/source has neither url nor type/);
    expect((await failure(resolve({ type: 'mysql', host: 'h' }), ConfigError)).message).toMatch(/source\.database/);
    await failure(resolve({ type: 'postgres', database: 'd', credentials: 'env://X' }), ConfigError);
    await failure(resolve({ type: 'sqlite', database: 'a.db', credentials: 'env://X' }), ConfigError);
  });
});

describe('credential references', () => {
  it('env://: a missing or empty variable names the variable and the role', async () => {
    setEnv('SENSEI_T_MISSING', undefined);
    const err = await failure(
      resolve({ type: 'mysql', database: 'd', user: 'u', credentials: 'env://SENSEI_T_MISSING' }, target),
      CredentialError,
    );
    expect(err.message).toContain('SENSEI_T_MISSING');
    expect(err.message).toContain('target.credentials');
    expect(err.message).toMatch(/not set/);
    expect(err.code).toBe('CREDENTIAL_UNRESOLVED');
    setEnv('SENSEI_T_EMPTY', '');
    expect((await failure(resolve({ url: 'env://SENSEI_T_EMPTY' }), CredentialError)).message).toMatch(/SENSEI_T_EMPTY is empty/);
  });

  it('file: absolute and relative paths are read and trimmed; a missing file names the path', async () => {
    const abs = join(dir.path, 'pw.txt');
    writeFileSync(abs, `${SECRET}\n`);
    const fromAbs = await resolve({ type: 'postgres', database: 'd', user: 'u', credentials: `file://${abs}` });
    expect(decodeURIComponent(new URL(fromAbs.url).password)).toBe(SECRET);
    const fromRel = await resolve({ type: 'postgres', database: 'd', user: 'u', credentials: 'file:pw.txt' });
    expect(fromRel.url).toBe(fromAbs.url);

    const missing = join(dir.path, 'nowhere', 'pw.txt');
    const err = await failure(resolve({ type: 'postgres', database: 'd', user: 'u', credentials: `file://${missing}` }), CredentialError);
    expect(err.message).toContain(missing);
    const rel = await failure(resolve({ type: 'postgres', database: 'd', user: 'u', credentials: 'file:missing.txt' }), CredentialError);
    expect(rel.message).toContain(join(dir.path, 'missing.txt'));
    writeFileSync(join(dir.path, 'blank.txt'), ' \n');
    await failure(resolve({ type: 'postgres', database: 'd', user: 'u', credentials: 'file:blank.txt' }), CredentialError);
  });

  it('refuses a password written where a reference belongs, without repeating it', async () => {
    const err = await failure(resolve({ type: 'mysql', database: 'd', user: 'u', credentials: SECRET }), ConfigError);
    expect(err.message).toContain('source.credentials is not a reference');
    expect(err.hint).toContain('env://NAME');
  });

  describe('vault://', () => {
    const TOKEN = 'hvs.test-token-value';
    let server: Server;
    let addr: string;
    const seen: { url: string; headers: IncomingHttpHeaders }[] = [];

    beforeAll(async () => {
      server = createServer((req, res) => {
        seen.push({ url: req.url ?? '', headers: req.headers });
        if (req.headers['x-vault-token'] !== TOKEN) {
          res.writeHead(403, { 'content-type': 'application/json' }).end('{"errors":["permission denied"]}');
          return;
        }
        if (req.url === '/v1/secret/data/sensei/db') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ data: { data: { password: SECRET, username: 'app' }, metadata: { version: 3 } } }));
          return;
        }
        if (req.url === '/v1/secret/data/broken') {
          res.writeHead(200, { 'content-type': 'application/json' }).end('not json');
          return;
        }
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[]}');
      });
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
      addr = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise<void>((ok) => server.close(() => ok()));
    });

    const withVault = (credentials: string) => resolve({ type: 'postgres', database: 'd', user: 'app', credentials });

    it('reads data.data[key] from KV v2 with the token header', async () => {
      setEnv('VAULT_ADDR', `${addr}/`);
      setEnv('VAULT_TOKEN', TOKEN);
      seen.length = 0;
      const r = await withVault('vault://secret/sensei/db#password');
      expect(decodeURIComponent(new URL(r.url).password)).toBe(SECRET);
      expect(r.redacted).toBe('postgres://app:***@127.0.0.1:5432/d');
      expect(seen).toHaveLength(1);
      expect(seen[0]!.url).toBe('/v1/secret/data/sensei/db');
      expect(seen[0]!.headers['x-vault-token']).toBe(TOKEN);
    });

    it('fails without VAULT_ADDR or VAULT_TOKEN', async () => {
      setEnv('VAULT_ADDR', undefined);
      setEnv('VAULT_TOKEN', TOKEN);
      expect((await failure(withVault('vault://secret/sensei/db#password'), CredentialError, [SECRET, TOKEN])).message).toMatch(/VAULT_ADDR/);
      setEnv('VAULT_ADDR', addr);
      setEnv('VAULT_TOKEN', undefined);
      expect((await failure(withVault('vault://secret/sensei/db#password'), CredentialError)).message).toMatch(/VAULT_TOKEN/);
    });

    it('reports HTTP errors by status, never the token', async () => {
      setEnv('VAULT_ADDR', addr);
      setEnv('VAULT_TOKEN', 'hvs.wrong-token');
      const denied = await failure(withVault('vault://secret/sensei/db#password'), CredentialError, [SECRET, 'hvs.wrong-token']);
      expect(denied.message).toContain('HTTP 403');
      expect(denied.message).toContain('vault://secret/sensei/db');
      setEnv('VAULT_TOKEN', TOKEN);
      expect((await failure(withVault('vault://secret/other/path#password'), CredentialError, [SECRET, TOKEN])).message).toContain('HTTP 404');
      expect((await failure(withVault('vault://secret/broken#password'), CredentialError, [TOKEN])).message).toMatch(/not JSON/);
    });

    it('reports a missing key by name without showing the values present', async () => {
      setEnv('VAULT_ADDR', addr);
      setEnv('VAULT_TOKEN', TOKEN);
      const err = await failure(withVault('vault://secret/sensei/db#pass'), CredentialError, [SECRET, TOKEN, 'app:']);
      expect(err.message).toContain('no key "pass"');
      expect(err.hint).toContain('password');
    });

    it('rejects incomplete references and an unreachable Vault', async () => {
      setEnv('VAULT_ADDR', addr);
      setEnv('VAULT_TOKEN', TOKEN);
      await failure(withVault('vault://secret/sensei/db'), CredentialError);
      await failure(withVault('vault://secret#password'), CredentialError);
      setEnv('VAULT_ADDR', 'http://127.0.0.1:1');
      const err = await failure(withVault('vault://secret/sensei/db#password'), CredentialError, [SECRET, TOKEN]);
      expect(err.message).toMatch(/cannot reach Vault at http:\/\/127\.0\.0\.1:1/);
    });
  });
});

describe('openSource', () => {
  it('refuses an unknown scheme, listing the supported ones and not echoing the URL', async () => {
    const err = await failure(openSource(`oracle://scott:${SECRET}@h/orcl`), ConfigError, [SECRET, 'scott']);
    expect(err.message).toContain('"oracle:"');
    for (const s of ['mysql://', 'mariadb://', 'postgres://', 'postgresql://', 'sqlite:']) expect(err.hint).toContain(s);
    await failure(openSource(SECRET), ConfigError);
  });
});

describe('resolveEndpoint: embedded and schema options', () => {
  it('keeps pglite://memory in memory instead of turning it into a directory', async () => {
    const r = await resolveEndpoint({ url: 'pglite://memory' }, { baseDir: '/tmp/x', role: 'target' });
    expect(r.url).toBe('pglite://memory');
  });
  it('passes schema: to PostgreSQL as ?schema=', async () => {
    const r = await resolveEndpoint({ url: 'postgres://u@h:5432/db', schema: 'legacy' }, { baseDir: '/tmp', role: 'source' });
    expect(new URL(r.url).searchParams.get('schema')).toBe('legacy');
  });
});
