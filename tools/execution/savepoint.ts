// One savepoint discipline for the load: what a statement refuses is undone and reported, what breaks the session is
// thrown for the segment's retry.
import type { TargetSession } from '../../connectors/connector.js';
import { classifyFault } from './fault-class.js';

export type Attempt<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Run `fn` under savepoint `name` of `s`: kept when it resolves; when it fails with a permanent error (a constraint,
 * a value a type refuses) everything it did is rolled back and the error returned. Other failures (a lost connection,
 * disk full, a timeout) are thrown as they are, for the segment to be retried or the run stopped.
 */
export async function underSavepoint<T>(s: TargetSession, name: string, fn: () => Promise<T>): Promise<Attempt<T>> {
  const quoted = `"${name.replaceAll('"', '""')}"`;
  await s.query(`SAVEPOINT ${quoted}`);
  try {
    const value = await fn();
    await s.query(`RELEASE SAVEPOINT ${quoted}`);
    return { ok: true, value };
  } catch (error) {
    if (classifyFault(error) !== 'permanent') throw error;
    await s.query(`ROLLBACK TO SAVEPOINT ${quoted}`);
    await s.query(`RELEASE SAVEPOINT ${quoted}`);
    return { ok: false, error };
  }
}
