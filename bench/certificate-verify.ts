// `npm run bench:certificate -- --rows N [--bin PATH …] [--repeat R]`: peak RSS, CPU and wall time of
// `sensei certificate verify FILE --target URL` on a real PostgreSQL target of N order rows and N/10 customers, with the
// target unchanged and with every 10th order changed (every bucket then differs). Each `--bin` (a built
// `dist/cli/main.js`, default this checkout's) runs back to back, R times per case. Prints figures; asserts nothing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createMapper } from '../agents/mapper.js';
import { openSource } from '../connectors/open-source.js';
import { openTarget } from '../connectors/open-target.js';
import { companionPaths, issueCertificate } from '../tools/certification/issue-certificate.js';
import { executePlan } from '../tools/execution/execute-plan.js';
import { createPgDatabase, pgExec } from '../test/fixtures/databases.js';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '300000' }, bin: { type: 'string', multiple: true }, repeat: { type: 'string', default: '2' } },
});
const rows = Number(values.rows);
const customers = Math.max(1, Math.floor(rows / 10));
const bins = values.bin?.length ? values.bin : [fileURLToPath(new URL('../dist/cli/main.js', import.meta.url))];
const repeat = Math.max(1, Number(values.repeat));
if (spawnSync('/usr/bin/time', ['-f', '%M', 'true']).status !== 0) throw new Error('bench:certificate needs /usr/bin/time (GNU time) to read the peak RSS of the command');

const src = await createPgDatabase('sensei_bench_csrc');
const tgt = await createPgDatabase('sensei_bench_ctgt');
const home = mkdtempSync(join(tmpdir(), 'sensei-bench-cert-'));
try {
  await pgExec(
    src.url,
    `CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, email varchar(120), balance numeric(12,2), since date);
     CREATE TABLE orders (id bigint PRIMARY KEY, customer_id integer NOT NULL REFERENCES customers (id), total numeric(12,2), placed_at timestamp, note text, weight double precision);
     INSERT INTO customers SELECT g, 'Customer ' || g, 'c' || g || '@example.com', g * 1.01, date '2000-01-01' + g % 9000 FROM generate_series(1, ${customers}) g;
     INSERT INTO orders SELECT g, 1 + g % ${customers}, (g % 10000) * 0.37, timestamp '2020-01-01' + g * interval '1 minute', CASE WHEN g % 4 = 0 THEN NULL ELSE 'order note ' || g END, g / 7.0 FROM generate_series(1, ${rows}) g;`,
  );
  const file = join(home, 'bench.json');
  const source = await openSource(src.url);
  const target = await openTarget(tgt.url);
  try {
    const catalog = await source.catalog({ withCounts: true });
    const { plan } = await createMapper().plan({ source: catalog, target, thresholds: { autoApproveAbove: 0.95, reviewAbove: 0.8 } });
    const outcomes = await executePlan({ runId: 'bench', source, target, errors: { add: async () => undefined }, batchSize: 10_000 }, plan, catalog);
    await issueCertificate({
      runId: 'bench',
      home,
      path: file,
      source: { dialect: source.dialect, database: source.database },
      target,
      plan,
      outcomes,
      approval: { decision: 'approve', by: 'bench', at: new Date().toISOString() },
      verification: { passed: true, checks: [] },
      capture: null,
    });
  } finally {
    await source.close();
    await target.close();
  }
  const fileMb = statSync(companionPaths(file).rows).size / 2 ** 20;
  process.stdout.write(`bench:certificate — ${rows + customers} rows (${rows} orders, ${customers} customers), row-hash file ${fileMb.toFixed(1)} MB\n`);

  const measure = (bin: string): string => {
    const r = spawnSync('/usr/bin/time', ['-f', 'PEAK_KB=%M CPU=%U+%S WALL=%e', process.execPath, bin, 'certificate', 'verify', file, '--target', tgt.url, '--json'], {
      encoding: 'utf8',
      env: { ...process.env, SENSEI_HOME: home, SENSEI_STORE_URL: '' },
      maxBuffer: 64 * 2 ** 20,
    });
    const m = /PEAK_KB=(\d+) CPU=([\d.]+)\+([\d.]+) WALL=([\d.]+)/.exec(r.stderr);
    let summary = `exit ${r.status}`;
    try {
      const out = JSON.parse(r.stdout) as { target_matches: boolean; findings: unknown[] };
      summary += `, target_matches ${out.target_matches}, ${out.findings.length} finding(s)`;
    } catch {
      summary += `, no JSON (${r.stderr.split('\n')[0]})`;
    }
    if (!m) return `${summary}; no figures from /usr/bin/time`;
    const cpu = Number(m[2]) + Number(m[3]);
    return `peak ${Math.round(Number(m[1]) / 1024)} MB, cpu ${cpu.toFixed(2)} s, wall ${Number(m[4]).toFixed(2)} s (${summary}) load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`;
  };
  const cases: Array<[string, string | null]> = [
    ['unchanged target', null],
    ['every 10th order changed', `UPDATE orders SET total = total + 1 WHERE id % 10 = 0`],
  ];
  for (const [name, change] of cases) {
    if (change) await pgExec(tgt.url, change);
    process.stdout.write(`  ${name}:\n`);
    for (let i = 0; i < repeat; i++) for (const bin of bins) process.stdout.write(`    ${bin}: ${measure(bin)}\n`);
  }
} finally {
  await src.drop();
  await tgt.drop();
  rmSync(home, { recursive: true, force: true });
}
