// Benchmark of `analyze` on a generated 50-table, 1M-row PostgreSQL source: prints the time of each phase.
// Usage: npm run bench:analyze [-- --tables 50 --rows 1000000 --sample 100000]   (needs the PostgreSQL server)
// Bounded by the sample: with --sample below the rows per table, the statistical phase should cost the same for
// --rows 1000000 and --rows 4000000 (its CPU time is printed too: wall time on a loaded machine is noisy).
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openSource } from '../connectors/open-source.js';
import { analyzeSource } from '../tools/analysis/analyze-source.js';

const ADMIN = process.env.SENSEI_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const { values } = parseArgs({ options: { tables: { type: 'string', default: '50' }, rows: { type: 'string', default: '1000000' }, sample: { type: 'string', default: '100000' } } });
const tables = Number(values.tables);
const perTable = Math.floor(Number(values.rows) / tables);
const sample = Number(values.sample);

async function main(): Promise<void> {
  const name = `sensei_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(ADMIN);
  url.pathname = `/${name}`;
  try {
    const c = new pg.Client({ connectionString: url.toString() });
    await c.connect();
    let t0 = performance.now();
    for (let i = 1; i <= tables; i++) {
      const ref = i > 1 ? `, ref_id int` : '';
      await c.query(`CREATE TABLE t${i} (id int PRIMARY KEY, full_name text, email text, birth_date date, amount numeric(10,2),
        status text, created_at timestamp, note text${ref})`);
      await c.query(`INSERT INTO t${i} SELECT g, 'Person ' || (g % 997) || ' Name', 'user' || g || '@example.com', date '1950-01-01' + (g % 18000),
        ((g * 7919) % 100000) / 100.0, (ARRAY['NEW','PAID','SHIPPED','CANCELLED'])[1 + g % 4], timestamp '2020-01-01' + (g || ' minutes')::interval,
        CASE WHEN g % 5 = 0 THEN NULL ELSE 'note about order ' || g || ' and its delivery' END${i > 1 ? `, 1 + (g * 31) % ${perTable}` : ''}
        FROM generate_series(1, ${perTable}) g`);
    }
    await c.query('ANALYZE');
    await c.end();
    const gen = (performance.now() - t0) / 1000;
    process.stdout.write(`generated ${tables} tables × ${perTable.toLocaleString('en-US')} rows = ${(tables * perTable).toLocaleString('en-US')} rows in ${gen.toFixed(1)} s\n`);

    const source = await openSource(url.toString());
    try {
      t0 = performance.now();
      const report = await analyzeSource(source, { sampleRows: sample });
      const total = (performance.now() - t0) / 1000;
      const t = report.timings;
      const sampled = report.samples.reduce((a, s) => a + s.rows, 0);
      const methods = [...new Set(report.samples.map((s) => s.method))].join(', ');
      process.stdout.write(
        `analyze (sample ${sample.toLocaleString('en-US')} rows/table, ${sampled.toLocaleString('en-US')} rows profiled, ${methods}; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}):\n` +
          `  structural     ${(t.structural / 1000).toFixed(2)} s\n` +
          `  sampling       ${(t.sampling / 1000).toFixed(2)} s  (reading ${Math.round(sampled / (t.sampling / 1000)).toLocaleString('en-US')} rows/s)\n` +
          `  statistical    ${(t.statistical / 1000).toFixed(2)} s  (statistics + fingerprints; ${Math.round(sampled / (t.statistical / 1000)).toLocaleString('en-US')} rows/s; CPU ${(t.statisticalCpu / 1000).toFixed(2)} s)\n` +
          `  semantic       ${(t.semantic / 1000).toFixed(2)} s\n` +
          `  relationships  ${(t.relationships / 1000).toFixed(2)} s  (${(report.catalog.relationships ?? []).length} found)\n` +
          `  descriptions   ${(t.descriptions / 1000).toFixed(2)} s\n` +
          `  total          ${total.toFixed(2)} s\n`,
      );
    } finally {
      await source.close();
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:analyze failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
