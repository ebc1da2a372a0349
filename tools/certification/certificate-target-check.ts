// Does the target still hold what a certificate certified? Re-hash every table in the database and, with the
// row-hash file, name the key of every row that differs.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Certificate } from '../../core/certificate.js';
import type { Finding } from '../../core/findings.js';
import type { TargetConnector } from '../../connectors/connector.js';
import { diffRows, differingBuckets, digestTargetTable, rowFindings, targetRowsIn } from '../verification/compare-capture.js';
import { sha256Hex } from './canonical-json.js';
import type { RowHashFile } from './row-hash-file.js';

export interface TargetCheck {
  /** True when every table's root equals the certified one. */
  matches: boolean;
  tables: Array<{ table: string; matches: boolean }>;
  /** Row-level findings (or, without the row-hash file, one per changed table). */
  findings: Finding[];
}

/**
 * Read the certificate's row-hash file from next to `certificatePath`. Returns null when the certificate names none;
 * throws when it is missing or its sha256 is not the certified one (it was changed).
 */
export async function readRowHashFile(certificatePath: string, cert: Certificate): Promise<RowHashFile | null> {
  const ref = cert.payload.row_hashes;
  if (!ref) return null;
  const path = join(dirname(certificatePath), ref.file);
  const bytes = await readFile(path);
  if (sha256Hex(bytes) !== ref.sha256) throw new Error(`the row-hash file ${path} is not the one certified (its sha256 differs): it was changed or replaced`);
  return JSON.parse(gunzipSync(bytes).toString('utf8')) as RowHashFile;
}

export async function checkTargetAgainstCertificate(cert: Certificate, target: TargetConnector, rowHashes: RowHashFile | null): Promise<TargetCheck> {
  const out: TargetCheck = { matches: true, tables: [], findings: [] };
  const existing = new Set((await target.catalog()).tables.map((t) => t.name));
  for (const t of cert.payload.tables) {
    if (!existing.has(t.target)) {
      out.matches = false;
      out.tables.push({ table: t.target, matches: false });
      out.findings.push({ code: 'missing_table', path: [t.target], message: `target table ${t.target} no longer exists` });
      continue;
    }
    const shape = { columns: t.columns, key: t.key };
    const actual = await digestTargetTable(target, t.target, shape, t.buckets);
    const same = actual.root === t.target_root;
    out.tables.push({ table: t.target, matches: same });
    if (same) continue;
    out.matches = false;
    const file = rowHashes?.tables.find((x) => x.target === t.target);
    if (!file) {
      out.findings.push({ code: 'check_error', path: [t.target], message: `${t.target} differs from what was certified; without the row-hash file the rows cannot be named` });
      continue;
    }
    const expectedDigests = file.digests.map(([bucket, rows, digest]) => ({ bucket, rows, digest }));
    const which = differingBuckets(expectedDigests, actual.digests);
    const wanted = new Set(which);
    const expected = new Map<number, Array<[string, string]>>();
    for (const [b, k, h] of file.rows) {
      if (!wanted.has(b)) continue;
      let list = expected.get(b);
      if (!list) expected.set(b, (list = []));
      list.push([k, h]);
    }
    const got = await targetRowsIn(target, t.target, shape, t.buckets, which);
    out.findings.push(...rowFindings(t.target, diffRows(shape, expected, got, which)));
  }
  return out;
}
