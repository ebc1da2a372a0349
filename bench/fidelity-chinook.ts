// Chinook fidelity: load the real Chinook MySQL dump into MariaDB and into SQLite, migrate each into a fresh
// PostgreSQL database with Sensei, and compare per table the row count and per column a checksum of canonical texts
// computed in SQL on each side. The SQLite copy is made from the same dump (N'…' strings as plain strings, foreign keys
// left out, dates written 'YYYY-MM-DD hh:mm:ss' as the official SQLite Chinook writes them).
// Usage: npm run fidelity:chinook -- --path /work/shared/datasets/chinook   (the databases it creates are dropped)
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import type { ColumnDef, TableDef } from '../core/catalog.js';
import { openSource } from '../connectors/open-source.js';
import { createMysqlDatabase, createPgDatabase, mysqlExec, pgQuery } from '../test/fixtures/databases.js';
import { migrateDirect } from '../test/fixtures/direct-migration.js';

const i = process.argv.indexOf('--path');
const path = i >= 0 ? process.argv[i + 1] : undefined;
if (!path || !existsSync(join(path, 'source.mysql.sql'))) {
  console.error('usage: npm run fidelity:chinook -- --path DIR   (DIR holds source.mysql.sql, e.g. ../shared/datasets/chinook)');
  process.exit(2);
}

const q = (n: string) => `\`${n.replace(/`/g, '``')}\``;
const p = (n: string) => `"${n.replace(/"/g, '""')}"`;

/** The same canonical text of a value, computed by MariaDB and by PostgreSQL. */
function canonical(c: ColumnDef, target: string): [string, string] {
  const m = q(c.name);
  const t = p(target);
  switch (c.logicalType.kind) {
    case 'char':
    case 'varchar':
    case 'text':
      return [`HEX(CONVERT(${m} USING utf8mb4))`, `upper(encode(convert_to(${t}, 'UTF8'), 'hex'))`];
    case 'timestamp':
      return [`DATE_FORMAT(${m}, '%Y-%m-%d %H:%i:%s.%f')`, `to_char(${t}, 'YYYY-MM-DD HH24:MI:SS.US')`];
    case 'date':
      return [`DATE_FORMAT(${m}, '%Y-%m-%d')`, `to_char(${t}, 'YYYY-MM-DD')`];
    case 'bytes':
      return [`HEX(${m})`, `upper(encode(${t}, 'hex'))`];
    case 'boolean':
      return [`CAST(${m} AS CHAR)`, `CASE WHEN ${t} THEN '1' WHEN NOT ${t} THEN '0' END`];
    default:
      return [`CAST(${m} AS CHAR)`, `${t}::text`];
  }
}

const src = await createMysqlDatabase('sensei_chinook');
const tgt = await createPgDatabase('sensei_chinook');
let failed = 0;
try {
  await mysqlExec(src.url, readFileSync(join(path, 'source.mysql.sql'), 'utf8'));
  const started = Date.now();
  const run = await migrateDirect(src.url, tgt.url, { batchSize: 10_000 });
  console.log(`migrated in ${((Date.now() - started) / 1000).toFixed(1)} s; ${run.errors.length} rows queued`);
  const source = await openSource(src.url);
  const catalog = await source.catalog({ withCounts: true });
  await source.close();
  const conn = await mysql.createConnection({ uri: src.url });
  await conn.query('SET SESSION group_concat_max_len = 1073741824');
  for (const table of catalog.tables as TableDef[]) {
    const mapping = run.plan.tables.find((m) => m.source === table.name)!;
    const order = table.primaryKey;
    const targetOf = (c: string) => mapping.columns.find((m) => m.sourceColumn === c)!.targetColumn;
    const outcome = run.outcomes.find((o) => o.source === table.name)!;
    const [[{ n }]] = (await conn.query(`SELECT COUNT(*) AS n FROM ${q(table.name)}`)) as unknown as [[{ n: number }]];
    const tn = (await pgQuery<{ n: string }>(tgt.url, `SELECT count(*) AS n FROM ${p(mapping.target)}`))[0]?.n;
    const bad: string[] = [];
    if (Number(n) !== Number(tn)) bad.push(`count ${n} vs ${tn}`);
    for (const c of table.columns.filter((x) => !x.isGenerated)) {
      const [me, pe] = canonical(c, targetOf(c.name));
      const [[{ h }]] = (await conn.query(
        `SELECT MD5(GROUP_CONCAT(COALESCE(${me}, '\\\\N') ORDER BY ${order.map(q).join(', ')} SEPARATOR '\\n')) AS h FROM ${q(table.name)}`,
      )) as unknown as [[{ h: string | null }]];
      const th = (await pgQuery<{ h: string | null }>(
        tgt.url,
        `SELECT md5(string_agg(COALESCE(${pe}, '\\N'), E'\\n' ORDER BY ${order.map((k) => p(targetOf(k))).join(', ')})) AS h FROM ${p(mapping.target)}`,
      ))[0]?.h;
      if (h !== th) bad.push(`column ${c.name} checksum ${h} vs ${th}`);
    }
    if (bad.length > 0) failed++;
    console.log(
      `${table.name.padEnd(14)} → ${mapping.target.padEnd(16)} rows ${String(n).padStart(6)} read ${outcome.rows_read} written ${outcome.rows_written} queued ${outcome.rows_errored}  ${bad.length === 0 ? `all ${table.columns.length} column checksums equal` : `MISMATCH: ${bad.join('; ')}`}`,
    );
  }
  await conn.end();
} finally {
  await src.drop();
  await tgt.drop();
}
/** Canonical text of a SQLite value, the same as `canonical()` gives on the PostgreSQL side. */
function sqliteCanonical(c: ColumnDef): string {
  const n = `"${c.name.replace(/"/g, '""')}"`;
  switch (c.logicalType.kind) {
    case 'char':
    case 'varchar':
    case 'text':
      return `hex(${n})`;
    case 'timestamp':
      return `strftime('%Y-%m-%d %H:%M:%f000', ${n})`;
    case 'decimal':
      return `printf('%.${c.logicalType.scale ?? 0}f', ${n})`;
    default:
      return `CAST(${n} AS TEXT)`;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'sensei-chinook-'));
const tgt2 = await createPgDatabase('sensei_chinook');
try {
  const file = join(dir, 'chinook.db');
  const lite = new Database(file);
  lite.exec(
    readFileSync(join(path, 'source.mysql.sql'), 'utf8')
      .replace(/ALTER TABLE[^;]*;/g, '')
      .replace(/([(,]\s*)N'/g, "$1'")
      .replace(/'(\d{4})\/(\d{1,2})\/(\d{1,2})'/g, (_m, y: string, mo: string, d: string) => `'${y}-${mo.padStart(2, '0')}-${d.padStart(2, '0')} 00:00:00'`),
  );
  lite.close();
  const run = await migrateDirect(`sqlite://${file}`, tgt2.url, { batchSize: 10_000 });
  console.log(`\nSQLite copy migrated; ${run.errors.length} rows queued`);
  const source = await openSource(`sqlite://${file}`);
  const catalog = await source.catalog();
  await source.close();
  const db = new Database(file, { readonly: true });
  for (const table of catalog.tables) {
    const mapping = run.plan.tables.find((m) => m.source === table.name)!;
    const targetOf = (c: string) => mapping.columns.find((m) => m.sourceColumn === c)!.targetColumn;
    const order = table.primaryKey.map((k) => `"${k}"`).join(', ');
    const bad: string[] = [];
    const n = (db.prepare(`SELECT count(*) AS n FROM "${table.name}"`).get() as { n: number }).n;
    const tn = (await pgQuery<{ n: string }>(tgt2.url, `SELECT count(*) AS n FROM ${p(mapping.target)}`))[0]?.n;
    if (Number(n) !== Number(tn)) bad.push(`count ${n} vs ${tn}`);
    for (const c of table.columns) {
      const texts = (db.prepare(`SELECT CASE WHEN "${c.name.replace(/"/g, '""')}" IS NULL THEN '\\N' ELSE ${sqliteCanonical(c)} END AS v FROM "${table.name}" ORDER BY ${order}`).all() as { v: string }[]).map((r) => r.v);
      const h = createHash('md5').update(texts.join('\n')).digest('hex');
      const [, pe] = canonical(c, targetOf(c.name));
      const th = (await pgQuery<{ h: string | null }>(
        tgt2.url,
        `SELECT md5(string_agg(COALESCE(${pe}, '\\N'), E'\\n' ORDER BY ${table.primaryKey.map((k) => p(targetOf(k))).join(', ')})) AS h FROM ${p(mapping.target)}`,
      ))[0]?.h;
      if (h !== th) bad.push(`column ${c.name} checksum differs`);
    }
    if (bad.length > 0) failed++;
    console.log(`${table.name.padEnd(14)} → ${mapping.target.padEnd(16)} rows ${String(n).padStart(6)}  ${bad.length === 0 ? `all ${table.columns.length} column checksums equal` : `MISMATCH: ${bad.join('; ')}`}`);
  }
  db.close();
} finally {
  await tgt2.drop();
  rmSync(dir, { recursive: true, force: true });
}
console.log(failed === 0 ? 'chinook: full fidelity from MariaDB and SQLite (counts and per-column checksums equal)' : `chinook: ${failed} tables differ`);
process.exit(failed === 0 ? 0 : 1);
