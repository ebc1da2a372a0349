// One process at a time per run: a lock file with the holder's pid, taken over only when that process is gone.
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunStateError } from '../../core/errors.js';

export interface RunLock {
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `<home>/locks/<runId>.lock`. Throws RunStateError when a live process holds it (two processes resuming one
 * run would load the same segment twice). A lock left by a killed process is taken over.
 */
export function acquireRunLock(home: string, runId: string): RunLock {
  const dir = join(home, 'locks');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${runId.replace(/[^A-Za-z0-9_.-]/g, '_')}.lock`);
  for (let tries = 0; tries < 3; tries++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx', mode: 0o600 });
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            if (readFileSync(path, 'utf8') === String(process.pid)) unlinkSync(path);
          } catch {
            // already gone
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder = NaN;
      try {
        holder = Number(readFileSync(path, 'utf8'));
      } catch {
        continue;
      }
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
        throw new RunStateError(`run ${runId} is being worked on by process ${holder}`, {
          hint: 'wait for that process to finish (or stop it), then resume the run; two processes must not load one run at once',
        });
      }
      if (holder === process.pid) {
        throw new RunStateError(`run ${runId} is already being worked on in this process`, { hint: 'wait for it to finish' });
      }
      try {
        unlinkSync(path);
      } catch {
        // another process took it over first; try again
      }
    }
  }
  throw new RunStateError(`could not take the lock of run ${runId}`, { hint: `remove ${path} if no Sensei process works on this run` });
}
