// The catalog a DDL file describes, read by running it in a scratch in-memory PGlite: the real parser, no guessing.
import { readFile } from 'node:fs/promises';
import type { Catalog } from '../../core/catalog.js';
import { ConfigError } from '../../core/errors.js';
import { openTarget } from '../../connectors/open-target.js';

/** Runs the DDL in a throw-away embedded PostgreSQL, so the user's target is untouched until the plan is approved. */
export async function catalogFromDdl(path: string): Promise<{ catalog: Catalog; ddl: string }> {
  let ddl: string;
  try {
    ddl = await readFile(path, 'utf8');
  } catch {
    throw new ConfigError(`target.schema: cannot read the DDL file ${path}`, { hint: 'check the path (relative paths are relative to the config file)' });
  }
  const scratch = await openTarget('pglite://memory');
  try {
    try {
      await scratch.query(ddl);
    } catch (e) {
      throw new ConfigError(`target.schema: ${path} is not valid PostgreSQL DDL: ${e instanceof Error ? e.message : String(e)}`, {
        hint: 'fix the DDL file; it must run on an empty PostgreSQL database',
      });
    }
    const catalog = await scratch.catalog();
    if (catalog.tables.length === 0) {
      throw new ConfigError(`target.schema: ${path} creates no table in schema public`, { hint: 'the DDL must CREATE TABLE the target tables' });
    }
    return { catalog, ddl };
  } finally {
    await scratch.close();
  }
}
