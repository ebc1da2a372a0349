// Loads an evaluation case (../shared/datasets format) into catalogs and value samples: real databases, real parsers.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import type { Catalog, ColumnDef, LogicalType, TableDef } from '../core/catalog.js';
import { openSource } from '../connectors/open-source.js';
import { catalogFromDdl } from '../tools/planning/ddl-catalog.js';
import { addSampleRows, sampleSource } from '../tools/planning/matching/sample-values.js';
import type { ColumnSamples } from '../tools/planning/matching/value-evidence.js';
import { pgTypeFor } from '../tools/planning/pg-types.js';

export interface Correspondence {
  source: string;
  target: string;
}

export interface MatchingCase {
  name: string;
  source: Catalog;
  target: Catalog;
  sourceSamples: ColumnSamples;
  targetSamples: ColumnSamples;
  truth: Correspondence[];
}

const MYSQL_ADMIN_URL = process.env.SENSEI_EVAL_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/';

/** RFC 4180 CSV: quoted fields, doubled quotes, newlines inside quotes. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field.length > 0 || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function inferType(values: string[]): LogicalType {
  const vs = values.filter((v) => v !== '');
  if (vs.length > 0 && vs.every((v) => /^-?\d{1,18}$/.test(v))) return { kind: 'int64' };
  if (vs.length > 0 && vs.every((v) => /^-?\d+(\.\d+)?$/.test(v))) return { kind: 'decimal' };
  return { kind: 'text' };
}

/** A folder of CSV files as a catalog (types inferred from the values) and its value samples (empty = NULL). */
export function csvCatalog(dir: string, database: string, samples: Map<string, string[]>): Catalog {
  const tables: TableDef[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.csv')).sort()) {
    const rows = parseCsv(readFileSync(join(dir, file), 'utf8'));
    const [header, ...data] = rows;
    if (!header) continue;
    const name = basename(file, '.csv');
    const columns: ColumnDef[] = header.map((h, i) => {
      const logicalType = inferType(data.map((r) => r[i] ?? ''));
      return { name: h, declaredType: pgTypeFor(logicalType), logicalType, nullable: true, defaultValue: null, ordinal: i + 1, isGenerated: false };
    });
    tables.push({ schema: 'public', name, columns, primaryKey: [], foreignKeys: [], uniques: [], rowCount: data.length });
    addSampleRows(samples, name, header, data.map((r) => header.map((_, i) => (r[i] === undefined || r[i] === '' ? null : r[i]!))));
  }
  return { dialect: 'csv', database, tables };
}

export function readTruth(file: string): Correspondence[] {
  const [, ...rows] = parseCsv(readFileSync(file, 'utf8'));
  return rows.filter((r) => r.length >= 4).map(([st, sc, tt, tc]) => ({ source: `${st}.${sc}`, target: `${tt}.${tc}` }));
}

async function loadSource(dir: string, name: string): Promise<{ catalog: Catalog; samples: ColumnSamples }> {
  if (existsSync(join(dir, 'source.sql'))) {
    const tmp = mkdtempSync(join(tmpdir(), 'sensei-eval-'));
    const file = join(tmp, 'source.db');
    try {
      const db = new Database(file);
      db.exec(readFileSync(join(dir, 'source.sql'), 'utf8'));
      db.close();
      return await readThroughConnector(`sqlite://${file}`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  if (existsSync(join(dir, 'source.mysql.sql'))) {
    const db = `sensei_eval_${randomBytes(4).toString('hex')}`;
    const admin = await mysql.createConnection({ uri: MYSQL_ADMIN_URL, multipleStatements: true });
    try {
      await admin.query(`CREATE DATABASE \`${db}\``);
      await admin.query(`USE \`${db}\``);
      await admin.query(readFileSync(join(dir, 'source.mysql.sql'), 'utf8'));
      const url = new URL(MYSQL_ADMIN_URL);
      url.pathname = `/${db}`;
      return await readThroughConnector(url.toString());
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
      await admin.end();
    }
  }
  if (existsSync(join(dir, 'source'))) {
    const samples = new Map<string, string[]>();
    return { catalog: csvCatalog(join(dir, 'source'), `${name}/source`, samples), samples };
  }
  throw new Error(`${dir}: no source.sql, source.mysql.sql or source/ folder`);
}

async function readThroughConnector(url: string): Promise<{ catalog: Catalog; samples: ColumnSamples }> {
  const source = await openSource(url);
  try {
    const catalog = await source.catalog();
    return { catalog, samples: await sampleSource(source, catalog) };
  } finally {
    await source.close();
  }
}

async function loadTarget(dir: string, name: string): Promise<{ catalog: Catalog; samples: ColumnSamples }> {
  if (existsSync(join(dir, 'target.sql'))) return { catalog: (await catalogFromDdl(join(dir, 'target.sql'))).catalog, samples: new Map() };
  if (existsSync(join(dir, 'target'))) {
    const samples = new Map<string, string[]>();
    return { catalog: csvCatalog(join(dir, 'target'), `${name}/target`, samples), samples };
  }
  throw new Error(`${dir}: no target.sql or target/ folder`);
}

/** Loads one case folder. */
export async function loadMatchingCase(dir: string, name = basename(dir)): Promise<MatchingCase> {
  const source = await loadSource(dir, name);
  const target = await loadTarget(dir, name);
  return { name, source: source.catalog, target: target.catalog, sourceSamples: source.samples, targetSamples: target.samples, truth: readTruth(join(dir, 'truth.csv')) };
}

/** Case folders under the given paths: a folder with truth.csv is a case, otherwise its sub-folders are searched. */
export function findCaseDirs(path: string): string[] {
  if (existsSync(join(path, 'truth.csv'))) return [path];
  if (!existsSync(path)) throw new Error(`${path}: no such folder`);
  return readdirSync(path, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => findCaseDirs(join(path, e.name)));
}
