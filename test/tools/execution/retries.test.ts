// What a retry after a transient failure tells the user: what failed (in words, with the driver's code and never its
// message), which retry of how many, and the pause before it; and that other failures are not retried.
import { describe, expect, it } from 'vitest';
import type { RetryNotice } from '../../../core/run.js';
import { readSource, withRetries, type LoadTableDeps } from '../../../tools/execution/load-table.js';

/** Only the retry settings matter to `withRetries`. */
const depsWith = (notices: RetryNotice[], maxRetries = 5): LoadTableDeps =>
  ({ runId: 'run_r', maxRetries, retryBackoffMs: 4, onRetry: (n: RetryNotice) => notices.push(n) }) as unknown as LoadTableDeps;

/** An error as a driver throws it, quoting a value in its message. */
const failure = (message: string, code?: string): Error => Object.assign(new Error(message), code ? { code } : {});

describe('retries after a transient failure', () => {
  it.each([
    { what: 'a lost target connection', fail: () => Promise.reject(failure('terminating connection due to administrator command near "secret-42"', '57P01')), reason: 'lost the target connection (57P01)' },
    { what: 'a source that stopped answering', fail: () => readSource(() => Promise.reject(failure('read ECONNRESET "secret-42"', 'ECONNRESET'))), reason: 'the source stopped answering (ECONNRESET)' },
    { what: 'a lost connection without a code', fail: () => Promise.reject(failure('Connection terminated unexpectedly "secret-42"')), reason: 'lost the target connection (no error code)' },
  ])('announces each retry after $what, then succeeds', async ({ fail, reason }) => {
    const notices: RetryNotice[] = [];
    let calls = 0;
    const value = await withRetries(depsWith(notices), { source: 'orders', target: 'order' }, async () => (calls++ < 2 ? fail() : 7));
    expect(value).toBe(7);
    expect(notices.map(({ inMs, ...n }) => n)).toEqual([
      { table: 'orders', attempt: 1, of: 5, reason },
      { table: 'orders', attempt: 2, of: 5, reason },
    ]);
    // Exponential from 4 ms, with jitter: [2, 4] ms, then [4, 8] ms.
    expect(notices[0]!.inMs).toBeGreaterThanOrEqual(2);
    expect(notices[0]!.inMs).toBeLessThanOrEqual(4);
    expect(notices[1]!.inMs).toBeGreaterThanOrEqual(4);
    expect(notices[1]!.inMs).toBeLessThanOrEqual(8);
    expect(JSON.stringify(notices)).not.toContain('secret-42');
  });

  it('stops after the last retry with an error naming what it was doing, and does not retry a permanent failure', async () => {
    const notices: RetryNotice[] = [];
    const lost = withRetries(depsWith(notices, 2), { source: '(constraints)', target: '(constraints)', doing: 'putting the keys back' }, () => Promise.reject(failure('terminating connection', '57P01')));
    await expect(lost).rejects.toThrow(/^lost the target connection while putting the keys back and retries did not help/);
    expect(notices.map((n) => n.attempt)).toEqual([1, 2]);

    const refused: RetryNotice[] = [];
    let calls = 0;
    const permanent = withRetries(depsWith(refused), { source: 'orders', target: 'order' }, () => {
      calls++;
      return Promise.reject(failure('duplicate key value violates unique constraint', '23505'));
    });
    await expect(permanent).rejects.toThrow(/duplicate key/);
    expect(calls).toBe(1);
    expect(refused).toEqual([]);
  });
});
