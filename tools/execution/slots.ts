// At most N units of loading work (a table, or one key range of a large table) at once, over a whole load; and turns,
// which make the tables queue their units in load order whatever order their preparations finish in.

/** Runs `fn` when one of the slots is free; after a failure, work not yet started is refused (`NotStarted`). */
export type Slot = <T>(fn: () => Promise<T>) => Promise<T>;

/** Thrown instead of starting work once another unit has failed. */
export class NotStarted extends Error {
  constructor() {
    super('not started: another table or key range of this load failed first');
  }
}

/** A FIFO limiter with `limit` slots. */
export function slots(limit: number): Slot {
  let active = 0;
  let stopped = false;
  const waiting: Array<() => void> = [];
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };
  return async (fn) => {
    if (active < limit) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      if (stopped) throw new NotStarted();
      return await fn();
    } catch (e) {
      if (!(e instanceof NotStarted)) stopped = true;
      throw e;
    } finally {
      release();
    }
  };
}

/** Waits for every task to settle, then throws the first real failure (not a `NotStarted`). */
export async function settleAll(tasks: Array<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(tasks);
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  const real = failed.find((r) => !(r.reason instanceof NotStarted)) ?? failed[0];
  if (real) throw real.reason;
}

/** One table's place in the queue: wait for `ready`, queue its units, then `pass` (also when it failed). */
export interface Turn {
  ready: Promise<void>;
  pass: () => void;
}

/** `count` turns taken in index order: turn i is ready once turns 0…i-1 have passed. */
export function turns(count: number): Turn[] {
  const passes: Array<() => void> = [];
  const ready: Array<Promise<void>> = [Promise.resolve()];
  for (let i = 0; i < count; i++) ready.push(new Promise<void>((resolve) => passes.push(resolve)));
  return Array.from({ length: count }, (_, i) => ({ ready: ready[i]!, pass: passes[i]! }));
}
