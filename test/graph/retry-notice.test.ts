// A whole run through the runtime whose target connection is lost mid-load: the run retries, tells the runtime's
// caller (CLI, server) which run and table retried and why, and ends with every row once.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SenseiConfig } from '../../core/config.js';
import type { RetryNotice, Stage } from '../../core/run.js';
import { createRuntime, type RunResult } from '../../graph/runtime.js';
import { createPgDatabase, pgExec, pgQuery, PG_ADMIN_URL, tempDir, type TempDatabase } from '../fixtures/databases.js';
import { homeWithStore } from '../fixtures/store-template.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ROWS = 2000;

/**
 * Ends every backend of database `db`, synchronously (a child process): called from the progress callback, which runs
 * inside the load's open segment transaction, so the loss lands mid-segment whatever the machine's speed.
 */
function terminateNow(db: string): void {
  const script = `const pg = require('pg'); const c = new pg.Client({ connectionString: process.argv[1] });
    c.connect().then(() => c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [process.argv[2]])).then(() => c.end(), (e) => { console.error(e); process.exit(1); });`;
  const r = spawnSync(process.execPath, ['-e', script, PG_ADMIN_URL, db], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`terminating the target's backends failed: ${r.stderr}`);
}

describe('a run that loses its target connection mid-load', () => {
  const dir = tempDir('sensei-retry-run-');
  let src: TempDatabase;
  let tgt: TempDatabase;
  let result: RunResult;
  const notices: Array<[string, RetryNotice]> = [];
  let killedAt = 0;

  beforeAll(async () => {
    src = await createPgDatabase('sensei_rrsrc');
    tgt = await createPgDatabase('sensei_rrtgt');
    await pgExec(src.url, `CREATE TABLE parcels (id integer PRIMARY KEY, label text NOT NULL); INSERT INTO parcels SELECT g, 'parcel ' || g FROM generate_series(1, ${ROWS}) g;`);
    let stage: Stage | null = null;
    const rt = await createRuntime({
      home: homeWithStore(dir.path),
      onStage: (_id, s) => void (stage = s),
      onProgress: (_id, p) => {
        // The first execute-stage batch written: its segment's transaction is open.
        if (stage === 'execute' && killedAt === 0 && p.rowsRead > 0 && !p.done) {
          killedAt = p.rowsRead;
          terminateNow(tgt.name);
        }
      },
      onRetry: (id, n) => notices.push([id, n]),
    });
    try {
      const config = SenseiConfig.parse({ source: { url: src.url }, target: { url: tgt.url }, strategy: { batch_size: 100, retry_backoff_ms: 20 } });
      result = await rt.start(config, dir.path, { preApproved: true });
    } finally {
      await rt.close();
    }
  }, 180_000);

  afterAll(async () => {
    await src?.drop();
    await tgt?.drop();
    dir.remove();
  });

  it('retries, tells the caller which run and table, and loads every row once', async () => {
    expect(killedAt).toBeGreaterThan(0);
    expect(killedAt).toBeLessThan(ROWS);
    expect(result.error).toBeNull();
    expect(result.status).toBe('completed');
    expect(notices.length).toBeGreaterThanOrEqual(1);
    expect(notices[0]![0]).toBe(result.runId);
    expect(notices[0]![1]).toMatchObject({ table: 'parcels', attempt: 1, of: 5, reason: expect.stringMatching(/^lost the target connection \(/) });
    const rows = await pgQuery<{ n: string; d: string }>(tgt.url, 'SELECT count(*) AS n, count(DISTINCT id) AS d FROM parcels');
    expect(rows[0]).toEqual({ n: String(ROWS), d: String(ROWS) });
  });
});
