// `npm run bench:verify -- --rows N`: capture, execute, verify and certify times on a real PostgreSQL source and
// target (N order rows, N/10 customers); `--scale N`: on the benchmark database instead (the employees sample ×N in
// MariaDB, as `npm run bench` builds it; ×30 ≈ 3.9M rows). Prints figures; asserts nothing. Goal: verify takes less
// than execute. Peak RSS per stage: the kernel's high-water mark (VmHWM), reset before each stage.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createMapper } from '../agents/mapper.js';
import { openSource } from '../connectors/open-source.js';
import { openTarget } from '../connectors/open-target.js';
import { issueCertificate } from '../tools/certification/issue-certificate.js';
import { executePlan } from '../tools/execution/execute-plan.js';
import { captureSource } from '../tools/verification/capture-source.js';
import { inMemoryDetail, inMemoryPartitions } from '../tools/verification/compare-capture.js';
import { verifyMigration } from '../tools/verification/verify-migration.js';
import { createPgDatabase, pgExec } from '../test/fixtures/databases.js';
import { employeesDatabase } from './employees-db.js';
import { peakRssMb, resetPeakRss } from './peak-rss.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '200000' }, batch: { type: 'string', default: '10000' }, scale: { type: 'string' } } });
const rows = Number(values.rows);
const batchSize = Number(values.batch);
const customers = Math.max(1, Math.floor(rows / 10));
const employees = values.scale ? await employeesDatabase(Number(values.scale)) : null;

// The synthetic source is made (and dropped) here; the employees database is kept for later runs.
const src = employees ? { url: employees.url, drop: async () => undefined } : await createPgDatabase('sensei_bench_vsrc');
const tgt = await createPgDatabase('sensei_bench_vtgt');
const home = mkdtempSync(join(tmpdir(), 'sensei-bench-verify-'));
const timings: Record<string, number> = {};
const peaks: Record<string, number> = {};
const time = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
  resetPeakRss();
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    timings[name] = (performance.now() - t0) / 1000;
    peaks[name] = peakRssMb() || process.memoryUsage.rss() / 2 ** 20;
  }
};
try {
  if (!employees) await pgExec(
    src.url,
    `CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, email varchar(120), balance numeric(12,2), since date);
     CREATE TABLE orders (id bigint PRIMARY KEY, customer_id integer NOT NULL REFERENCES customers (id), total numeric(12,2), placed_at timestamp, note text, weight double precision);
     INSERT INTO customers SELECT g, 'Customer ' || g, 'c' || g || '@example.com', g * 1.01, date '2000-01-01' + g % 9000 FROM generate_series(1, ${customers}) g;
     INSERT INTO orders SELECT g, 1 + g % ${customers}, (g % 10000) * 0.37, timestamp '2020-01-01' + g * interval '1 minute', CASE WHEN g % 4 = 0 THEN NULL ELSE 'order note ' || g END, g / 7.0 FROM generate_series(1, ${rows}) g;`,
  );
  const source = await openSource(src.url);
  const target = await openTarget(tgt.url);
  try {
    const catalog = await source.catalog({ withCounts: true });
    const { plan, plannedTarget } = await createMapper().plan({ source: catalog, target, thresholds: { autoApproveAbove: 0.95, reviewAbove: 0.8 } });
    const capture = await time('capture', () => captureSource({ source, target, batchSize }, plan, catalog));
    try {
      const outcomes = await time('execute', () => executePlan({ runId: 'bench', source, target, errors: { add: async () => undefined }, batchSize }, plan, catalog));
      const report = await time('verify', () =>
        verifyMigration(target, { plan, plannedTarget, outcomes, capture: { tables: capture.tables, loadDetail: inMemoryDetail(capture.tables) } }),
      );
      await time('certify', () =>
        issueCertificate({
          runId: 'bench',
          home,
          path: join(home, 'bench.json'),
          source: { dialect: source.dialect, database: source.database },
          target,
          plan,
          outcomes,
          approval: { decision: 'approve', by: 'bench', at: new Date().toISOString() },
          verification: report,
          capture: { capturedAt: capture.capturedAt, tables: capture.tables, readPartition: inMemoryPartitions(capture.tables) },
        }),
      );
      const total = employees ? employees.rows : rows + customers;
      const what = employees ? `${employees.name} in MariaDB` : `${rows} orders, ${customers} customers`;
      process.stdout.write(`bench:verify — ${total} rows (${what}), batch ${batchSize}, verification ${report.passed ? 'passed' : 'FAILED'}\n`);
      for (const [k, v] of Object.entries(timings)) process.stdout.write(`  ${k.padEnd(8)} ${v.toFixed(2)} s  (${Math.round(total / v)} rows/s), peak RSS ${Math.round(peaks[k]!)} MB\n`);
      process.stdout.write(`  verify / execute = ${(timings.verify! / timings.execute!).toFixed(2)} (goal < 1); capture / execute = ${(timings.capture! / timings.execute!).toFixed(2)}\n`);
    } finally {
      for (const t of capture.tables) t.detail.release();
    }
  } finally {
    await source.close();
    await target.close();
  }
} finally {
  await src.drop();
  await tgt.drop();
  rmSync(home, { recursive: true, force: true });
}
