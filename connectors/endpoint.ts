// Turns a configured endpoint (URL or parts plus a credential reference) into a connectable URL and a printable one.
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EndpointConfig } from '../core/config.js';
import { ConfigError, CredentialError } from '../core/errors.js';

/** A resolved endpoint. `url` carries the secret and lives in memory only; print `redacted`. */
export interface ResolvedEndpoint {
  /** Full URL including the password, if any: never log or store it. */
  url: string;
  /** The same URL with the password replaced by `***`: safe to print. */
  redacted: string;
}

export interface ResolveEndpointOptions {
  /** Directory relative paths (`file:` references, SQLite/PGlite files) are resolved against: the config file's. */
  baseDir: string;
  /** Which endpoint this is, for error messages (`source.url`, `target.credentials`). */
  role: 'source' | 'target';
}

const SCHEMES = ['postgres', 'postgresql', 'mysql', 'mariadb', 'sqlite', 'pglite'] as const;
const FILE_SCHEMES = new Set(['sqlite', 'pglite']);
const DEFAULT_PORTS: Record<string, number> = { postgres: 5432, postgresql: 5432, mysql: 3306, mariadb: 3306 };
const REFERENCE_HINT = 'use a reference: env://NAME, file:///abs/path, file:relative/path or vault://mount/path#key';

/**
 * Resolve an endpoint from the configuration. `url` may be a literal URL (without a password) or a reference
 * (`env://`, `file:`, `vault://`) to the URL text; otherwise the URL is built from `type/host/port/database/user`,
 * with the password taken from the `credentials` reference. Defaults: host `127.0.0.1`, port 5432 (PostgreSQL) or
 * 3306 (MySQL/MariaDB). Relative SQLite/PGlite paths are resolved against `baseDir`.
 */
export async function resolveEndpoint(cfg: EndpointConfig, options: ResolveEndpointOptions): Promise<ResolvedEndpoint> {
  const { role } = options;
  let url: string;
  if (cfg.url !== undefined) {
    if (isReference(cfg.url)) {
      const text = await resolveReference(cfg.url, `${role}.url`, options);
      url = normaliseUrl(text, `${role}.url (resolved from ${describeReference(cfg.url)})`, options.baseDir);
    } else {
      url = normaliseUrl(cfg.url, `${role}.url`, options.baseDir);
      if (hasInlinePassword(url)) {
        throw new ConfigError(`${role}.url contains an inline password (${redactUrl(url)})`, {
          hint: `remove the password from the URL and add \`credentials: env://NAME\` (or file:/vault:) to the ${role} section`,
        });
      }
    }
    if (cfg.credentials !== undefined) url = withPassword(url, await resolvePassword(cfg.credentials, options), role);
  } else {
    url = await buildUrl(cfg, options);
  }
  url = withSchema(url, cfg.schema);
  return { url, redacted: redactUrl(url) };
}

/** `schema:` travels to the PostgreSQL connectors as the `?schema=` URL parameter they read. */
function withSchema(url: string, schema: string | undefined): string {
  if (schema === undefined || !/^postgres(ql)?:/i.test(url)) return url;
  const u = new URL(url);
  u.searchParams.set('schema', schema);
  return u.toString();
}

/** The URL with its password (user-info or `password=` parameter) replaced by `***`. Use it wherever a URL is shown. */
export function redactUrl(url: string): string {
  let out = url;
  try {
    const u = new URL(url);
    if (u.password !== '') {
      u.password = '***';
      out = u.toString();
    }
  } catch {
    out = out.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#:@]*):[^@/?#]*@/i, '$1:***@');
  }
  return out.replace(/([?&](?:password|pass|pwd)=)[^&#]*/gi, '$1***');
}

function isReference(value: string): boolean {
  return /^(env:\/\/|file:|vault:\/\/)/i.test(value);
}

/** A reference as it may be printed: it names where the secret is, never the secret. */
function describeReference(ref: string): string {
  return ref.split('#')[0] ?? ref;
}

function hasInlinePassword(url: string): boolean {
  try {
    if (new URL(url).password !== '') return true;
  } catch {
    // Unparseable URLs were rejected by normaliseUrl already.
  }
  return /[?&](?:password|pass|pwd)=/i.test(url);
}

/** The URL's scheme in lower case (`''` when it has none); nothing else of the URL is read (it may carry a password). */
export function schemeOf(url: string): string {
  return (/^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1] ?? '').toLowerCase();
}

/** Check the scheme, and turn relative SQLite/PGlite paths into absolute `scheme:///path` URLs. */
function normaliseUrl(url: string, where: string, baseDir: string): string {
  const scheme = schemeOf(url);
  if (!(SCHEMES as readonly string[]).includes(scheme)) {
    throw new ConfigError(`${where} has an unsupported scheme${scheme ? ` "${scheme}:"` : ''}`, {
      hint: `use one of ${SCHEMES.map((s) => `${s}://`).join(', ')} (sqlite:relative/path is allowed too)`,
    });
  }
  if (/^pglite:\/\/memory\/?$/i.test(url)) return 'pglite://memory';
  if (FILE_SCHEMES.has(scheme)) return fileUrl(scheme, filePathOf(url, baseDir));
  try {
    new URL(url);
  } catch (e) {
    throw new ConfigError(`${where} is not a valid URL`, { hint: 'write it as scheme://user@host:port/database', cause: e });
  }
  return url;
}

/**
 * The file path of a `sqlite:`/`pglite:` URL, made absolute against `baseDir`. `scheme:///abs/path` is a URL
 * (percent-decoded, query and fragment dropped); `scheme:relative/path` and `scheme:/abs/path` are taken verbatim.
 */
export function filePathOf(url: string, baseDir: string): string {
  const rest = url.slice(url.indexOf(':') + 1);
  if (rest.startsWith('///')) return fileURLToPath(new URL(`file:${rest}`));
  // `scheme://relative` is a common slip for `scheme:relative`: read it as a path, not as a host.
  const path = rest.startsWith('//') ? rest.slice(2) : rest;
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

function fileUrl(scheme: string, absPath: string): string {
  return pathToFileURL(absPath).toString().replace(/^file:/, `${scheme}:`);
}

function withPassword(url: string, password: string, role: string): string {
  if (FILE_SCHEMES.has(schemeOf(url))) {
    throw new ConfigError(`${role}.credentials is set but ${role}.url is a file database without passwords`, {
      hint: `remove ${role}.credentials`,
    });
  }
  const u = new URL(url);
  u.password = encodeURIComponent(password);
  return u.toString();
}

async function buildUrl(cfg: EndpointConfig, options: ResolveEndpointOptions): Promise<string> {
  const { role, baseDir } = options;
  if (cfg.type === undefined) {
    throw new ConfigError(`${role} has neither url nor type`, {
      hint: `set ${role}.url (e.g. postgres://user@host/db) or ${role}.type with host/database`,
    });
  }
  if (cfg.database === undefined || cfg.database === '') {
    throw new ConfigError(`${role}.database is missing (type ${cfg.type})`, {
      hint: FILE_SCHEMES.has(cfg.type) ? `set ${role}.database to the file path` : `set ${role}.database to the database name`,
    });
  }
  if (FILE_SCHEMES.has(cfg.type)) {
    if (cfg.credentials !== undefined) {
      throw new ConfigError(`${role}.credentials is set but ${cfg.type} databases have no passwords`, {
        hint: `remove ${role}.credentials`,
      });
    }
    return fileUrl(cfg.type, resolve(baseDir, cfg.database));
  }
  const u = new URL(`${cfg.type}://placeholder`);
  u.hostname = cfg.host ?? '127.0.0.1';
  u.port = String(cfg.port ?? DEFAULT_PORTS[cfg.type]);
  u.pathname = `/${encodeURIComponent(cfg.database)}`;
  // The URL setters leave `%` alone, so encode first: drivers percent-decode user and password.
  if (cfg.user !== undefined) u.username = encodeURIComponent(cfg.user);
  if (cfg.credentials !== undefined) {
    if (cfg.user === undefined) {
      throw new ConfigError(`${role}.credentials is set without ${role}.user`, { hint: `add ${role}.user` });
    }
    u.password = encodeURIComponent(await resolvePassword(cfg.credentials, options));
  }
  if (cfg.ssl !== undefined) {
    const mode = cfg.ssl === true ? 'require' : cfg.ssl === false ? 'disable' : cfg.ssl;
    if (cfg.type === 'mysql' || cfg.type === 'mariadb') {
      u.searchParams.set('ssl-mode', { require: 'REQUIRED', 'verify-full': 'VERIFY_IDENTITY', disable: 'DISABLED' }[mode]);
    } else {
      u.searchParams.set('sslmode', mode);
    }
  }
  return u.toString();
}

async function resolvePassword(ref: string, options: ResolveEndpointOptions): Promise<string> {
  if (!isReference(ref)) {
    // The value may be the password itself: never echo it.
    throw new ConfigError(`${options.role}.credentials is not a reference`, {
      hint: `${REFERENCE_HINT}; Sensei never takes a password inline`,
    });
  }
  return resolveReference(ref, `${options.role}.credentials`, options);
}

/** The text a reference points at. Messages name the variable, file or Vault path, never the value. */
async function resolveReference(ref: string, where: string, options: ResolveEndpointOptions): Promise<string> {
  if (/^env:\/\//i.test(ref)) return fromEnv(ref.slice('env://'.length), where);
  if (/^file:/i.test(ref)) return fromFile(ref, where, options.baseDir);
  return fromVault(ref, where);
}

function fromEnv(name: string, where: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new CredentialError(`${where}: "env://${name}" is not a valid environment variable reference`, {
      hint: 'write env://NAME with letters, digits and underscores',
    });
  }
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new CredentialError(`${where}: environment variable ${name} is ${value === undefined ? 'not set' : 'empty'}`, {
      hint: `export ${name} before running Sensei`,
    });
  }
  return value;
}

async function fromFile(ref: string, where: string, baseDir: string): Promise<string> {
  let path: string;
  if (/^file:\/\//i.test(ref)) {
    try {
      path = fileURLToPath(new URL(ref));
    } catch (e) {
      throw new CredentialError(`${where}: "${ref}" is not a valid file URL`, {
        hint: 'write file:///absolute/path or file:relative/path',
        cause: e,
      });
    }
  } else {
    path = resolve(baseDir, decodeURIComponent(ref.slice('file:'.length)));
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'read error';
    throw new CredentialError(`${where}: cannot read credential file ${path} (${code})`, {
      hint: 'check that the file exists and is readable by this user',
    });
  }
  const value = text.trim();
  if (value === '') {
    throw new CredentialError(`${where}: credential file ${path} is empty`, { hint: 'write the secret into the file' });
  }
  return value;
}

async function fromVault(ref: string, where: string): Promise<string> {
  const hashAt = ref.indexOf('#');
  const path = ref.slice('vault://'.length, hashAt < 0 ? undefined : hashAt).replace(/^\/+|\/+$/g, '');
  const key = hashAt < 0 ? '' : ref.slice(hashAt + 1);
  const slash = path.indexOf('/');
  if (slash <= 0 || key === '') {
    throw new CredentialError(`${where}: "${describeReference(ref)}" is not a complete Vault reference`, {
      hint: 'write vault://<mount>/<path>#<key>, e.g. vault://secret/sensei/db#password',
    });
  }
  const addr = process.env.VAULT_ADDR;
  const token = process.env.VAULT_TOKEN;
  if (!addr) throw new CredentialError(`${where}: VAULT_ADDR is not set (needed for vault://${path})`, { hint: 'export VAULT_ADDR=https://vault.example:8200' });
  if (!token) throw new CredentialError(`${where}: VAULT_TOKEN is not set (needed for vault://${path})`, { hint: 'export VAULT_TOKEN with a token that may read the secret' });
  const mount = path.slice(0, slash);
  const rest = path.slice(slash + 1);
  const endpoint = `${addr.replace(/\/+$/, '')}/v1/${mount}/data/${rest}`;
  let res: Response;
  try {
    res = await fetch(endpoint, { headers: { 'X-Vault-Token': token } });
  } catch (e) {
    throw new CredentialError(`${where}: cannot reach Vault at ${redactUrl(addr)} for vault://${path}`, {
      hint: 'check VAULT_ADDR and that Vault is running',
      cause: e,
    });
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new CredentialError(`${where}: Vault answered HTTP ${res.status} for vault://${path}`, {
      hint: res.status === 403 ? 'the VAULT_TOKEN may not read this path' : 'check the mount and path (KV version 2)',
    });
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch (e) {
    throw new CredentialError(`${where}: Vault's answer for vault://${path} is not JSON`, { hint: 'check VAULT_ADDR', cause: e });
  }
  const data = (body as { data?: { data?: Record<string, unknown> } } | null)?.data?.data;
  const value = data?.[key];
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new CredentialError(`${where}: Vault secret vault://${path} has no key "${key}"`, {
      hint: `add the key to the secret or fix the #key part (keys present: ${Object.keys(data ?? {}).join(', ') || 'none'})`,
    });
  }
  const text = String(value);
  if (text === '') throw new CredentialError(`${where}: Vault key "${key}" of vault://${path} is empty`, { hint: 'store the secret in Vault' });
  return text;
}
