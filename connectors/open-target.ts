// Open the target database named by a URL: PostgreSQL servers and embedded PGlite.
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { TargetConnector } from './connector.js';
import { schemeOf } from './endpoint.js';
import type { PgliteLocation } from './pglite/pglite-target.js';

const SUPPORTED = 'postgres://, postgresql://, pglite:///absolute/dir, pglite:relative/dir, pglite://memory';

/**
 * A connected target for `url`: `postgres://` / `postgresql://` (with `?schema=NAME`, default `public`),
 * `pglite:///abs/dir`, `pglite:relative/dir` (relative to the working directory) or `pglite://memory`.
 * Throws ConfigError for any other URL and ConnectionError when the database cannot be opened.
 */
export async function openTarget(url: string): Promise<TargetConnector> {
  const scheme = schemeOf(url);
  // Drivers load on demand: an embedded target never loads pg, a server target never loads PGlite.
  if (scheme === 'postgres' || scheme === 'postgresql') {
    const { PostgresTarget } = await import('./postgres/postgres-target.js');
    const target = new PostgresTarget(url);
    await target.connect();
    return target;
  }
  if (scheme === 'pglite') {
    const { PgliteTarget } = await import('./pglite/pglite-target.js');
    const target = new PgliteTarget(pgliteLocation(url.slice('pglite:'.length)));
    await target.connect();
    return target;
  }
  // Only the scheme is named: the rest of the URL may carry a credential.
  throw new ConfigError(`target: ${scheme ? `the URL scheme "${scheme}:"` : 'a URL without a scheme'} is not a supported target`, {
    hint: `use one of ${SUPPORTED}`,
  });
}

function pgliteLocation(rest: string): PgliteLocation {
  if (rest === '//memory' || rest === '//memory/') return { memory: true };
  if (rest.startsWith('//')) {
    const path = decode(rest.slice(2));
    if (!path.startsWith('/')) {
      throw new ConfigError('target: the pglite:// URL names a host; PGlite is embedded and has none', {
        hint: 'use pglite:///absolute/dir, pglite:relative/dir or pglite://memory',
      });
    }
    return { dataDir: path };
  }
  const path = decode(rest);
  if (path === '') {
    throw new ConfigError('target: the pglite: URL names no data directory', {
      hint: 'use pglite:///absolute/dir, pglite:relative/dir or pglite://memory',
    });
  }
  return { dataDir: isAbsolute(path) ? path : resolve(process.cwd(), path) };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new ConfigError('target: the pglite: URL has a malformed %-escape in its path', { hint: 'write the path plainly or escape % as %25' });
  }
}
