// Evaluation of the semantic classifier: per-class precision/recall and PII accuracy on labelled columns, reported
// separately for the tuning part and the held-out part of a fixed split by dataset (PARTS in semantic-labels.ts).
// Usage: npm run eval:semantic -- ../shared/datasets   (needs the MariaDB server for chinook and employees)
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import type { Catalog } from '../core/catalog.js';
import { openSource } from '../connectors/open-source.js';
import { analyzeSource } from '../tools/analysis/analyze-source.js';
import { completeWithLuhn } from '../tools/analysis/validators.js';
import { parseCsv } from './matching-case.js';
import { LABELS, PARTS } from './semantic-labels.js';

type Label = [string, string];
const MYSQL_ADMIN_URL = process.env.SENSEI_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/';

function loadCsvDir(db: Database.Database, dir: string): void {
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.csv'))) {
    const [header, ...rows] = parseCsv(readFileSync(join(dir, f), 'utf8'));
    const table = basename(f, '.csv');
    db.exec(`CREATE TABLE "${table}" (${header!.map((h) => `"${h}" TEXT`).join(', ')})`);
    const ins = db.prepare(`INSERT INTO "${table}" VALUES (${header!.map(() => '?').join(', ')})`);
    db.transaction(() => {
      for (const r of rows) if (r.length === header!.length) ins.run(...r.map((v) => (v === '' ? null : v)));
    })();
  }
}

function prng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function ibanFor(country: string, bban: string): string {
  const moved = `${bban}${country}00`.replace(/[A-Z]/g, (ch) => String(ch.charCodeAt(0) - 55));
  let rem = 0;
  for (const d of moved) rem = (rem * 10 + +d) % 97;
  return `${country}${String(98 - rem).padStart(2, '0')}${bban}`;
}


/** Generated columns whose meaning is known by construction; neutral names, so values must decide. */
function generated(db: Database.Database): Record<string, Label> {
  const r = prng(42);
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 10)).join('');
  const cols: Record<string, [Label, () => string]> = {
    ref_a: [['iban', 'sensitive'], () => ibanFor('DE', digits(18))],
    ref_b: [['identifier', 'none'], () => `DE${digits(20)}`],
    val_c: [['credit_card', 'sensitive'], () => completeWithLuhn(`4${digits(14)}`)],
    ref_d: [['identifier', 'none'], () => { const v = completeWithLuhn(`4${digits(14)}`); return v.slice(0, 15) + String((+v[15]! + 3) % 10); }],
    contact_e: [['phone_number', 'personal'], () => `+44 20 ${digits(4)} ${digits(4)}`],
    val_f: [['national_id', 'sensitive'], () => `${100 + Math.floor(r() * 500)}-${10 + Math.floor(r() * 89)}-${1000 + Math.floor(r() * 8999)}`],
    host_g: [['ip_address', 'personal'], () => `10.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}.${1 + Math.floor(r() * 254)}`],
    link_h: [['url', 'none'], () => `https://shop.example.com/p/${digits(6)}`],
    key_i: [['uuid', 'none'], () => [8, 4, 4, 4, 12].map((n) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(r() * 16)]).join('')).join('-')],
    ccy: [['currency_code', 'none'], () => ['EUR', 'USD', 'GBP', 'CHF', 'JPY'][Math.floor(r() * 5)]!],
    ctry: [['country_code', 'none'], () => ['DE', 'FR', 'IT', 'ES', 'NL', 'BE', 'AT', 'PL'][Math.floor(r() * 8)]!],
    logged_at: [['timestamp', 'none'], () => `2024-0${1 + Math.floor(r() * 9)}-1${Math.floor(r() * 9)} ${10 + Math.floor(r() * 13)}:${10 + Math.floor(r() * 49)}:0${Math.floor(r() * 9)}`],
    mail_j: [['email', 'personal'], () => `u${digits(5)}@mail.example.org`],
    comment_k: [['free_text', 'none'], () => `Customer asked about order ${digits(4)} and the delayed delivery of parts`],
  };
  const names = Object.keys(cols);
  db.exec(`CREATE TABLE generated (${names.map((n) => `"${n}" TEXT`).join(', ')})`);
  const ins = db.prepare(`INSERT INTO generated VALUES (${names.map(() => '?').join(', ')})`);
  db.transaction(() => {
    for (let i = 0; i < 500; i++) ins.run(...names.map((n) => cols[n]![1]()));
  })();
  return Object.fromEntries(names.map((n) => [`generated/generated.${n}`, cols[n]![0]]));
}

/** Labels of a scrambled-name target, inherited from the source columns truth.csv maps onto it. */
function inherit(caseDir: string, fromCase: string, toCase: string): Record<string, Label> {
  const out: Record<string, Label> = {};
  const [, ...rows] = parseCsv(readFileSync(join(caseDir, 'truth.csv'), 'utf8'));
  for (const [st, sc, tt, tc] of rows) {
    const l = LABELS[`${fromCase}/${st}.${sc}`];
    if (l && tt && tc) out[`${toCase}/${tt}.${tc}`] = l;
  }
  return out;
}

async function analyzeUrl(url: string): Promise<Catalog> {
  const source = await openSource(url);
  try {
    return (await analyzeSource(source)).catalog;
  } finally {
    await source.close();
  }
}

/** Loads SQL scripts into a fresh MariaDB database, analyses it, drops it. */
async function analyzeMysql(scripts: string[]): Promise<Catalog> {
  const name = `sensei_eval_${randomBytes(4).toString('hex')}`;
  const admin = await mysql.createConnection({ uri: MYSQL_ADMIN_URL, multipleStatements: true });
  try {
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
    await admin.query(`USE \`${name}\``);
    for (const sql of scripts) await admin.query(sql);
    const url = new URL(MYSQL_ADMIN_URL);
    url.pathname = `/${name}`;
    return await analyzeUrl(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await admin.end();
  }
}

/** The employees sample: the tables of employee.sql (its views, `source` and database statements left out), then its data files. */
function employeesSql(dir: string): string[] {
  const ddl = readFileSync(join(dir, 'employee.sql'), 'utf8').match(/CREATE TABLE \w+ \([\s\S]*?\n\)\s*;/g);
  if (!ddl || ddl.length !== 6) throw new Error(`${dir}/employee.sql: expected 6 CREATE TABLE statements, found ${ddl?.length ?? 0}`);
  const loads = ['department', 'employee', 'dept_emp', 'dept_manager', 'title', 'salary1'].map((t) => readFileSync(join(dir, `load_${t}.sql`), 'utf8'));
  return [ddl.join('\n'), ...loads];
}

async function main(): Promise<void> {
  const root = resolve(process.argv[2] ?? '../shared/datasets');
  if (!existsSync(join(root, 'legacy_hr'))) throw new Error(`${root} does not look like the datasets folder (no legacy_hr/)`);
  const work = mkdtempSync(join(tmpdir(), 'sensei-eval-'));
  const labels: Record<string, Label> = { ...LABELS };
  const catalogs: Array<[string, Catalog]> = [];
  try {
    const sqlite = (name: string, fill: (db: Database.Database) => void) => {
      const file = join(work, `${name}.db`);
      const db = new Database(file);
      fill(db);
      db.close();
      return `sqlite://${file}`;
    };
    catalogs.push(['legacy_hr', await analyzeUrl(sqlite('legacy_hr', (db) => db.exec(readFileSync(join(root, 'legacy_hr', 'source.sql'), 'utf8'))))]);
    catalogs.push(['pubs', await analyzeUrl(sqlite('pubs', (db) => loadCsvDir(db, join(root, 'pubs', 'pubs1_pubs2', 'source'))))]);
    catalogs.push(['pubs2', await analyzeUrl(sqlite('pubs2', (db) => loadCsvDir(db, join(root, 'pubs', 'pubs1_pubs2', 'target'))))]);
    Object.assign(labels, inherit(join(root, 'pubs', 'pubs1_pubs2'), 'pubs', 'pubs2'));
    const mus = join(root, 'valentine-wikidata', 'Musicians_unionable');
    catalogs.push(['musicians', await analyzeUrl(sqlite('musicians', (db) => { loadCsvDir(db, join(mus, 'source')); loadCsvDir(db, join(mus, 'target')); }))]);
    Object.assign(labels, inherit(mus, 'musicians', 'musicians'));
    let gen: Record<string, Label> = {};
    catalogs.push(['generated', await analyzeUrl(sqlite('generated', (db) => (gen = generated(db))))]);
    Object.assign(labels, gen);

    catalogs.push(['chinook', await analyzeMysql([readFileSync(join(root, 'chinook', 'source.mysql.sql'), 'utf8')])]);
    catalogs.push(['employees', await analyzeMysql(employeesSql(join(root, 'employees')))]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const parts = (['tuning', 'held-out'] as const).map((part) => score(part, catalogs.filter(([c]) => PARTS[c] === part), labels));
  const missing = catalogs.filter(([c]) => !PARTS[c]).map(([c]) => c);
  if (missing.length > 0) throw new Error(`cases without a part in PARTS (semantic-labels.ts): ${missing.join(', ')}`);
  const lines = [
    'split (fixed, by dataset; see PARTS in bench/semantic-labels.ts):',
    ...parts.map((p) => `  ${p.part.padEnd(9)} ${p.cases.join(', ')}`),
    '',
    `${'part'.padEnd(9)} ${'columns'.padStart(7)} ${'semantic'.padStart(8)} ${'PII'.padStart(6)}`,
    ...parts.map((p) => `${p.part.padEnd(9)} ${String(p.n).padStart(7)} ${(p.right / p.n).toFixed(3).padStart(8)} ${(p.piiRight / p.n).toFixed(3).padStart(6)}`),
    '',
    'per case:',
    ...parts.flatMap((p) => p.perCase.map(([c, n, r, pr]) => `  ${c.padEnd(10)} ${p.part.padEnd(9)} ${String(n).padStart(4)} columns  semantic ${(r / n).toFixed(3)}  PII ${(pr / n).toFixed(3)}`)),
  ];
  for (const p of parts) lines.push('', `== ${p.part} ==`, ...p.lines);
  process.stdout.write(`${lines.join('\n')}\n`);
}

interface PartScore {
  part: string;
  cases: string[];
  n: number;
  right: number;
  piiRight: number;
  perCase: Array<[string, number, number, number]>;
  lines: string[];
}

/** Per-class precision/recall, PII accuracy and the misclassified columns of one part of the split. */
function score(part: string, catalogs: Array<[string, Catalog]>, labels: Record<string, Label>): PartScore {
  const stats = new Map<string, { tp: number; fp: number; fn: number }>();
  const bump = (k: string, f: 'tp' | 'fp' | 'fn') => {
    const s = stats.get(k) ?? { tp: 0, fp: 0, fn: 0 };
    s[f]++;
    stats.set(k, s);
  };
  let n = 0;
  let right = 0;
  let piiRight = 0;
  let unlabelled = 0;
  const wrong: string[] = [];
  const perCase: PartScore['perCase'] = [];
  const piiConfusion: Record<string, number> = {};
  for (const [caseName, catalog] of catalogs) {
    const before = [n, right, piiRight];
    for (const t of catalog.tables) {
      for (const c of t.columns) {
        const label = labels[`${caseName}/${t.name}.${c.name}`];
        if (!label || !c.profile) {
          unlabelled++;
          continue;
        }
        n++;
        const got = c.profile.semanticType;
        if (got === label[0]) (right++, bump(got, 'tp'));
        else (bump(got, 'fp'), bump(label[0], 'fn'), wrong.push(`${caseName}/${t.name}.${c.name}: expected ${label[0]}, got ${got}`));
        if (c.profile.pii === label[1]) piiRight++;
        const key = `${label[1]}→${c.profile.pii}`;
        piiConfusion[key] = (piiConfusion[key] ?? 0) + 1;
      }
    }
    perCase.push([caseName, n - before[0]!, right - before[1]!, piiRight - before[2]!]);
  }
  const lines = [`columns evaluated: ${n} (unlabelled, skipped: ${unlabelled})`, `semantic accuracy: ${(right / n).toFixed(3)}`, `PII accuracy: ${(piiRight / n).toFixed(3)}`, ''];
  lines.push(`${'class'.padEnd(18)} ${'prec'.padStart(6)} ${'recall'.padStart(6)} ${'support'.padStart(7)}`);
  for (const [k, s] of [...stats].sort(([a], [b]) => a.localeCompare(b))) {
    const p = s.tp + s.fp === 0 ? NaN : s.tp / (s.tp + s.fp);
    const r = s.tp + s.fn === 0 ? NaN : s.tp / (s.tp + s.fn);
    lines.push(`${k.padEnd(18)} ${Number.isNaN(p) ? '   -  ' : p.toFixed(2).padStart(6)} ${Number.isNaN(r) ? '   -  ' : r.toFixed(2).padStart(6)} ${String(s.tp + s.fn).padStart(7)}`);
  }
  lines.push('', `PII (expected→got): ${Object.entries(piiConfusion).sort().map(([k, v]) => `${k} ${v}`).join(', ')}`, '', 'misclassified:', ...wrong.map((w) => `  ${w}`));
  return { part, cases: catalogs.map(([c]) => c), n, right, piiRight, perCase, lines };
}

main().catch((e: unknown) => {
  process.stderr.write(`eval:semantic failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
