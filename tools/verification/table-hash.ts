// SHA-256 over a target table's rows as PostgreSQL prints them, in key order: the target side of the certificate.
import { createHash } from 'node:crypto';
import type { TableDef } from '../../core/catalog.js';
import type { TargetConnector } from '../../connectors/connector.js';
import { copyField } from '../execution/copy-text.js';
import { qualified, quoteIdent } from '../planning/identifiers.js';

/** Rows fetched per round trip while hashing. */
const FETCH = 10_000;

/**
 * Deterministic for a given table content: rows ordered by the primary key (or by every column without one), each
 * value as its PostgreSQL text output, lines in COPY text form. Anyone with read access can recompute it.
 */
export async function hashTargetTable(target: TargetConnector, table: TableDef): Promise<{ sha256: string; rows: number }> {
  const cols = table.columns.map((c) => `${quoteIdent(c.name)}::text`);
  const order = (table.primaryKey.length > 0 ? table.primaryKey : table.columns.map((c) => c.name)).map(quoteIdent).join(', ');
  const hash = createHash('sha256');
  let rows = 0;
  await target.transaction(async (s) => {
    await s.query(`DECLARE "sensei_hash" NO SCROLL CURSOR FOR SELECT ${cols.join(', ')} FROM ${qualified(target.schema, table.name)} ORDER BY ${order}`);
    for (;;) {
      const res = await s.query<Record<string, string | null>>(`FETCH ${FETCH} FROM "sensei_hash"`);
      for (const row of res.rows) {
        hash.update(Object.values(row).map((v) => copyField(v)).join('\t'));
        hash.update('\n');
      }
      rows += res.rows.length;
      if (res.rows.length < FETCH) break;
    }
    await s.query('CLOSE "sensei_hash"');
  });
  return { sha256: hash.digest('hex'), rows };
}
