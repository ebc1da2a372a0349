// Read throughput per source (rows/s, MB/s) and peak RSS, for a generated table of --rows rows (default 1,000,000).
// Usage: npm run bench:ingest -- [--rows N] [--sources sqlite,mariadb,postgres] [--batch 10000]
// Each source is measured in its own child process, so its peak RSS is its own. The databases it creates are dropped.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { IrValue } from '../core/batch.js';
import { openSource } from '../connectors/open-source.js';

const PG_ADMIN = process.env.SENSEI_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MYSQL_ADMIN = process.env.SENSEI_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

interface Prepared {
  url: string;
  drop(): Promise<void>;
}

async function prepare(kind: string, rows: number): Promise<Prepared> {
  const name = `sensei_bench_${Date.now().toString(36)}_${randomBytes(2).toString('hex')}`;
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'sensei-bench-'));
    const db = new Database(join(dir, 'bench.db'));
    db.exec(`CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(40), amount NUMERIC(12,2), created DATETIME, flag BOOLEAN, note TEXT);
      WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${rows})
      INSERT INTO items SELECT i, 'name ' || i, (i % 100000) / 100.0, datetime(1600000000 + i, 'unixepoch'), i % 2,
        'note ' || hex(randomblob(40)) FROM s;`);
    db.close();
    return { url: `sqlite://${join(dir, 'bench.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  if (kind === 'mariadb') {
    const c = await mysql.createConnection({ uri: MYSQL_ADMIN, multipleStatements: true });
    await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4; USE \`${name}\`;
      CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(40), amount DECIMAL(12,2), created DATETIME, flag TINYINT(1), note TEXT);
      INSERT INTO items SELECT seq, CONCAT('name ', seq), (seq % 100000) / 100, FROM_UNIXTIME(1600000000 + seq), seq % 2,
        CONCAT('note ', HEX(RANDOM_BYTES(40))) FROM seq_1_to_${rows};`);
    await c.end();
    const u = new URL(MYSQL_ADMIN);
    u.pathname = `/${name}`;
    return {
      url: u.toString(),
      drop: async () => {
        const d = await mysql.createConnection({ uri: MYSQL_ADMIN });
        await d.query(`DROP DATABASE IF EXISTS \`${name}\``);
        await d.end();
      },
    };
  }
  if (kind === 'postgres') {
    const admin = new pg.Client({ connectionString: PG_ADMIN });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    const u = new URL(PG_ADMIN);
    u.pathname = `/${name}`;
    const c = new pg.Client({ connectionString: u.toString() });
    await c.connect();
    await c.query(`CREATE TABLE items (id bigint PRIMARY KEY, name varchar(40), amount numeric(12,2), created timestamp, flag boolean, note text);
      INSERT INTO items SELECT i, 'name ' || i, (i % 100000) / 100.0, to_timestamp(1600000000 + i) AT TIME ZONE 'UTC', i % 2 = 1,
        'note ' || md5(i::text) || md5((i + 1)::text) FROM generate_series(1, ${rows}) i; ANALYZE items;`);
    await c.end();
    return {
      url: u.toString(),
      drop: async () => {
        const d = new pg.Client({ connectionString: PG_ADMIN });
        await d.connect();
        await d.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await d.end();
      },
    };
  }
  throw new Error(`unknown source ${kind}: use sqlite, mariadb or postgres`);
}

const sizeOf = (v: IrValue): number =>
  v === null ? 0 : Buffer.isBuffer(v) ? v.length : typeof v === 'string' ? Buffer.byteLength(v) : 8;

async function child(kind: string, rows: number, batchSize: number): Promise<void> {
  const db = await prepare(kind, rows);
  try {
    const source = await openSource(db.url);
    try {
      const table = (await source.catalog()).tables.find((t) => t.name === 'items')!;
      let peak = process.memoryUsage().rss;
      let read = 0;
      let bytes = 0;
      const started = process.hrtime.bigint();
      // CPU time next to wall time: on a shared machine the wall figure mostly measures the other processes.
      const cpuStart = process.cpuUsage();
      for await (const batch of source.readBatches(table, { batchSize })) {
        read += batch.rowCount;
        for (const col of batch.values) for (const v of col) bytes += sizeOf(v);
        peak = Math.max(peak, process.memoryUsage().rss);
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const cpu = process.cpuUsage(cpuStart);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      if (read !== rows) throw new Error(`${kind}: read ${read} rows, expected ${rows}`);
      process.stdout.write(
        `${JSON.stringify({ source: kind, rows: read, seconds: round(seconds), rows_per_s: Math.round(read / seconds), rows_per_cpu_s: Math.round(read / cpuSeconds), load_avg_1m: round(loadavg()[0]!), mb_per_s: round(bytes / 1e6 / seconds), peak_rss_mb: round(peak / 1e6) })}\n`,
      );
    } finally {
      await source.close();
    }
  } finally {
    await db.drop();
  }
}

const round = (x: number): number => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const rows = Number(arg('rows', '1000000'));
  const batchSize = Number(arg('batch', '10000'));
  if (!Number.isInteger(rows) || rows <= 0 || !Number.isInteger(batchSize) || batchSize <= 0) {
    console.error('--rows and --batch must be positive integers');
    process.exit(2);
  }
  const only = process.argv.indexOf('--child');
  if (only >= 0) return child(process.argv[only + 1]!, rows, batchSize);
  const sources = arg('sources', 'sqlite,mariadb,postgres').split(',');
  console.log(`reading a generated table of ${rows.toLocaleString('en')} rows (6 columns) per source, batch ${batchSize}`);
  for (const kind of sources) {
    const res = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', kind, '--rows', String(rows), '--batch', String(batchSize)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = res.stdout.trim().split('\n').pop() ?? '';
    try {
      const r = JSON.parse(line) as Record<string, number | string>;
      console.log(
        `${String(r.source).padEnd(9)} ${String(r.rows_per_s).padStart(8)} rows/s  ${String(r.mb_per_s).padStart(6)} MB/s  peak RSS ${r.peak_rss_mb} MB  (${r.seconds} s)  ` +
          `${r.rows_per_cpu_s} rows per CPU-second, load average ${r.load_avg_1m}`,
      );
    } catch {
      console.log(`${kind.padEnd(9)} failed (exit ${res.status})`);
    }
  }
}

await main();
