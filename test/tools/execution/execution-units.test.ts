// Small pieces of the execution engine: the run lock, fault classification, checkpoint key encoding.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRunStateError } from '../../../core/errors.js';
import { decodeKey, encodeKey } from '../../../tools/execution/checkpoints.js';
import { backoffMs, classifyFault } from '../../../tools/execution/fault-class.js';
import { acquireRunLock } from '../../../tools/execution/run-lock.js';
import { tempDir } from '../../fixtures/databases.js';

describe('run lock', () => {
  it('lets one holder at a time work on a run, and frees it on release', () => {
    const dir = tempDir('sensei-lock-');
    try {
      const lock = acquireRunLock(dir.path, 'run_1');
      let refused: unknown = null;
      try {
        acquireRunLock(dir.path, 'run_1');
      } catch (e) {
        refused = e;
      }
      expect(isRunStateError(refused)).toBe(true);
      expect(acquireRunLock(dir.path, 'run_2')).toBeDefined();
      lock.release();
      acquireRunLock(dir.path, 'run_1').release();
    } finally {
      dir.remove();
    }
  });

  it('refuses a lock held by another live process, naming it, and takes over one left by a dead process', async () => {
    const dir = tempDir('sensei-lock-');
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      acquireRunLock(dir.path, 'run_x').release();
      writeFileSync(join(dir.path, 'locks', 'run_x.lock'), String(other.pid));
      expect(() => acquireRunLock(dir.path, 'run_x')).toThrow(new RegExp(`process ${other.pid}`));
      other.kill('SIGKILL');
      await new Promise((r) => other.on('exit', r));
      const taken = acquireRunLock(dir.path, 'run_x');
      taken.release();
    } finally {
      other.kill('SIGKILL');
      dir.remove();
    }
  });
});

describe('fault classification', () => {
  it('tells retryable connection loss from disk-full, timeouts and real errors, through causes', () => {
    expect(classifyFault(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe('transient');
    expect(classifyFault(new Error('Connection terminated unexpectedly'))).toBe('transient');
    expect(classifyFault(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('transient');
    expect(classifyFault(new Error('wrapped', { cause: Object.assign(new Error('y'), { code: '08006' }) }))).toBe('transient');
    expect(classifyFault(Object.assign(new Error('could not extend file'), { code: '53100' }))).toBe('disk_full');
    expect(classifyFault(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }))).toBe('timeout');
    expect(classifyFault(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe('permanent');
  });
  it('backs off exponentially with a cap', () => {
    for (let i = 0; i < 20; i++) {
      expect(backoffMs(1, 100)).toBeLessThanOrEqual(100);
      expect(backoffMs(3, 100)).toBeGreaterThanOrEqual(200);
      expect(backoffMs(30, 100)).toBeLessThanOrEqual(10_000);
    }
  });
});

describe('checkpoint keys', () => {
  it('keep bigints, bytes, strings, numbers and NULL exactly', () => {
    const key = [12n ** 20n, Buffer.from([0, 1, 255]), 'a"b', 42, null, true];
    expect(decodeKey(encodeKey(key))).toEqual(key);
  });
});
