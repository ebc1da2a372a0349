// The approve → apply_decision loop on a real run: approve, modify (allow-listed), reject → re-plan, strategy, abort.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type SenseiRuntime } from '../../graph/runtime.js';
import { libraryApprovalRun, recordingPatterns } from '../fixtures/approval-run.js';
import { pgQuery, tempDir, type TempDatabase } from '../fixtures/databases.js';
import { libraryRows } from '../fixtures/library-source.js';
import type { SenseiConfig } from '../../core/config.js';
import { homeWithStore } from '../fixtures/store-template.js';

const pendingOf = (r: { approvalRequest: { pending: { sourceTable: string; sourceColumn: string; band: string }[] } | null }) =>
  r.approvalRequest?.pending.map((m) => `${m.sourceTable}.${m.sourceColumn}:${m.band}`) ?? [];

describe('AMANI decision flow', () => {
  const dir = tempDir('sensei-amani-');
  const patterns = recordingPatterns();
  let rt: SenseiRuntime;
  let config: SenseiConfig;
  let target: TempDatabase;

  beforeAll(async () => {
    ({ config, target } = await libraryApprovalRun(dir.path));
    rt = await createRuntime({ home: homeWithStore(join(dir.path, 'home')), patterns });
  }, 120_000);
  afterAll(async () => {
    await rt?.close();
    await target?.drop();
    dir.remove();
  });

  it('refuses a bad edit, applies a good one, re-plans on rejection, then executes when nothing is pending', async () => {
    const first = await rt.start(config, dir.path);
    expect(first.status).toBe('awaiting_approval');
    expect(pendingOf(first)).toEqual(['authors.name:explicit', 'authors.country:explicit']);
    const runId = first.runId;

    // A transformation outside the allow-list is explained and changes nothing.
    const bad = await rt.resume(runId, { action: 'modify', by: 'alice', table: 'authors', column: 'country', transformation: 'pg_sleep(10)::text' });
    expect(bad.status).toBe('awaiting_approval');
    expect(bad.reply).toMatch(/cannot use "pg_sleep\(10\)::text" for authors\.country: .*pg_sleep.*Nothing changed/);
    expect(bad.plan).toEqual(first.plan);
    expect(pendingOf(bad)).toEqual(pendingOf(first));

    // An unknown table: explained, nothing changed.
    const ghost = await rt.resume(runId, { action: 'approve', by: 'alice', table: 'invoices' });
    expect(ghost.reply).toMatch(/no table "invoices".*authors/);
    expect(pendingOf(ghost)).toEqual(pendingOf(first));

    // A good edit: x is the source column, the result is cast to the target type, the mapping counts as approved.
    const good = await rt.resume(runId, { action: 'modify', by: 'alice', table: 'authors', column: 'country', transformation: 'lower(trim(x))' });
    expect(good.reply).toMatch(/Changed authors\.country → authors\.country_code/);
    const country = good.plan!.tables[0]!.columns.find((c) => c.sourceColumn === 'country')!;
    expect(country).toMatchObject({ transformation: 'CAST((lower(trim(src."country"))) AS character(2))', origin: 'user', band: 'auto' });
    expect(pendingOf(good)).toEqual(['authors.name:explicit']);

    // Reject a table with a reason: back to the mapper, which marks every mapping of it for explicit approval with the reason.
    const rejected = await rt.resume(runId, { action: 'reject', by: 'bob', table: 'books', reason: 'prices are in cents' });
    expect(rejected.status).toBe('awaiting_approval');
    const books = rejected.plan!.tables.find((t) => t.source === 'books')!;
    expect(books.columns.every((c) => c.band === 'explicit' && c.rationale.includes('prices are in cents'))).toBe(true);
    expect(rejected.plan!.warnings.join('\n')).toMatch(/books was rejected by bob: "prices are in cents"/);
    expect(pendingOf(rejected)).toEqual(['authors.name:explicit', ...books.columns.map((c) => `books.${c.sourceColumn}:explicit`)]);
    // The re-plan starts from the source again: the earlier correction of authors.country was re-proposed by the mapper.
    expect(pendingOf(rejected)).not.toContain('authors.country:explicit');

    // Strategy: review threshold above auto threshold is refused; batch size is set.
    const badStrategy = await rt.resume(runId, { action: 'set_strategy', by: 'alice', review_above: 0.99 });
    expect(badStrategy.reply).toMatch(/cannot be above the auto-approve threshold.*nothing changed/);
    const strategy = await rt.resume(runId, { action: 'set_strategy', by: 'alice', batch_size: 7 });
    expect(strategy.reply).toMatch(/batch_size 10000 → 7/);
    expect((await rt.inspect(runId))!.state.config.strategy.batch_size).toBe(7);
    const policy = await rt.resume(runId, { action: 'set_strategy', by: 'alice', concurrency: 1, error_policy: { stop_after: 3 } });
    expect(policy.reply).toMatch(/concurrency 2 → 1, error_policy continue → \{"stop_after":3\}/);
    expect((await rt.inspect(runId))!.state.config.strategy).toMatchObject({ concurrency: 1, error_policy: { stop_after: 3 } });
    await expect(rt.resume(runId, { action: 'set_strategy', by: 'alice', concurrency: 0 })).rejects.toThrow(/concurrency/);
    expect((await rt.inspect(runId))!.state.config.strategy.concurrency).toBe(1);

    const booksApproved = await rt.resume(runId, { action: 'approve', by: 'bob', table: 'books' });
    expect(pendingOf(booksApproved)).toEqual(['authors.name:explicit']);
    const done = await rt.resume(runId, { action: 'approve', by: 'alice', table: 'authors', column: 'name' });
    expect(done.status).toBe('completed');
    expect(done.tables.map((t) => t.rows_written)).toEqual([7, 60, libraryRows().reviews.length]);

    const audit = await rt.store.listApprovals(runId);
    // Refused edits, unknown tables and a refused strategy leave no trace: nothing changed.
    expect(audit.map((a) => `${a.decision}:${a.by}`)).toEqual(['modify:alice', 'reject:bob', 'set_strategy:alice', 'set_strategy:alice', 'approve:bob', 'approve:alice']);
    const modify = audit.find((a) => a.decision === 'modify')!;
    expect(modify.detail).toMatchObject({ before: { targetColumn: 'country_code', transformation: 'CAST(src."country" AS character(2))' }, after: { transformation: 'CAST((lower(trim(src."country"))) AS character(2))' } });
    expect(modify.by).toBe('alice');
    expect(Date.parse(modify.at)).not.toBeNaN();

    // Every approved or corrected mapping went to the pattern library, with provenance.
    expect(patterns.records.map((r) => `${r.tableName}.${r.columnName}->${r.targetColumn}:${r.approvedBy}`)).toEqual([
      'authors.country->country_code:alice',
      ...books.columns.map((c) => `books.${c.sourceColumn}->${c.targetColumn}:bob`),
      'authors.name->full_name:alice',
    ]);
    expect(patterns.records[0]).toMatchObject({ runId, transformation: 'CAST((lower(trim({{col}}))) AS character(2))' });
    expect(patterns.records[0]!.fingerprint).toHaveLength(128);
    const authors = await pgQuery(target.url, 'SELECT full_name FROM authors ORDER BY id');
    expect(authors.map((a) => a.full_name)).toEqual(libraryRows().authors.map((a) => a.name));
  }, 180_000);

  it('abort ends the run as rejected without touching the target', async () => {
    const first = await rt.start(config, dir.path);
    expect(first.status).toBe('awaiting_approval');
    const aborted = await rt.resume(first.runId, { action: 'abort', by: 'carol', reason: 'wrong source' });
    expect(aborted.status).toBe('rejected');
    expect(aborted.reply).toMatch(/stopped: wrong source/);
    await expect(rt.resume(first.runId, { action: 'approve', by: 'carol' })).rejects.toThrow(/is rejected, not waiting for approval/);
    await expect(rt.resume('nope', { action: 'approve', by: 'carol' })).rejects.toThrow(/no run nope/);
  }, 120_000);

  it('refuses a malformed action before it reaches the run', async () => {
    const first = await rt.start(config, dir.path);
    await expect(rt.resume(first.runId, { action: 'approve' })).rejects.toThrow(/invalid approval answer: by/);
    await expect(rt.resume(first.runId, { action: 'modify', by: 'a', table: 'authors', column: 'name' })).rejects.toThrow(/exactly one of target_column or transformation/);
    await expect(rt.resume(first.runId, { action: 'reject', by: 'a', table: 'authors' })).rejects.toThrow(/reason/);
    expect((await rt.inspect(first.runId))!.request?.pending).toHaveLength(2);
  }, 120_000);
});
