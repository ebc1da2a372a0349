// Opens a source connector for a URL: the one place that chooses the backend by the URL's scheme.
import { ConfigError } from '../core/errors.js';
import type { SourceConnector } from './connector.js';
import { schemeOf } from './endpoint.js';
import type { SourceOptions } from './source-options.js';

/** A source constructor's shape: built from the URL, then connected. */
interface Connectable extends SourceConnector {
  connect?(): Promise<void>;
}

const SUPPORTED = 'mysql://, mariadb://, postgres://, postgresql://, sqlite:///abs/path, sqlite:relative/path';

/**
 * Open and connect the source a URL points at: `mysql://`/`mariadb://` → MySQL/MariaDB, `postgres://`/`postgresql://`
 * → PostgreSQL, `sqlite:///abs/path` or `sqlite:relative/path` (relative to the working directory) → SQLite, read-only.
 * Pass a URL from `resolveEndpoint` (it resolves credential references and config-relative paths). `options` as in
 * `SourceOptions` (defaults there).
 */
export async function openSource(url: string, options: SourceOptions = {}): Promise<SourceConnector> {
  const scheme = schemeOf(url);
  let source: Connectable;
  switch (scheme) {
    case 'mysql':
    case 'mariadb': {
      const { MysqlSource } = await import('./mysql/mysql-source.js');
      source = new MysqlSource(url, options);
      break;
    }
    case 'postgres':
    case 'postgresql': {
      const { PostgresSource } = await import('./postgres/postgres-source.js');
      source = new PostgresSource(url, options);
      break;
    }
    case 'sqlite': {
      const { SqliteSource } = await import('./sqlite/sqlite-source.js');
      source = new SqliteSource(url, options);
      break;
    }
    default:
      throw new ConfigError(
        // Only the scheme: a malformed URL may hold a password where the redaction cannot find it.
        `unsupported source URL ${scheme ? `scheme "${scheme}:"` : '(no scheme)'}`,
        { hint: `use one of ${SUPPORTED}` },
      );
  }
  await source.connect?.();
  return source;
}
