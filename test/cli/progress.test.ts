// The progress renderer's lines on stderr: a bar per table on a terminal, plain lines otherwise, a line per retry.
import { describe, expect, it } from 'vitest';
import { createProgressRenderer } from '../../cli/progress.js';

function stream(isTTY: boolean) {
  const out: string[] = [];
  return { out, s: { isTTY, write: (t: string) => void out.push(t) } as unknown as NodeJS.WriteStream };
}

const notice = { table: 'salaries', attempt: 2, of: 5, inMs: 1234, reason: 'lost the target connection (57P01)' };

describe('progress on stderr', () => {
  it('prints a retry as its own line, clearing the live bar on a terminal', () => {
    const tty = stream(true);
    const r = createProgressRenderer(tty.s);
    r.update({ table: 'salaries', rowsRead: 10, rowsTotal: 100, rowsWritten: 10, rowsErrored: 0, done: false });
    r.retry(notice);
    expect(tty.out[0]).toMatch(/^\r\x1b\[2Ksalaries\s+█+░+ 10\/100 rows/);
    expect(tty.out[1]).toBe('\r\x1b[2Ksalaries: lost the target connection (57P01); retry 2 of 5 in 1.2 s\n');

    const plain = stream(false);
    createProgressRenderer(plain.s).retry(notice);
    expect(plain.out).toEqual(['salaries: lost the target connection (57P01); retry 2 of 5 in 1.2 s\n']);
  });

  it('prints nothing with --quiet', () => {
    const quiet = stream(false);
    const r = createProgressRenderer(quiet.s, { quiet: true });
    r.update({ table: 't', rowsRead: 1, rowsTotal: 1, rowsWritten: 1, rowsErrored: 0, done: true });
    r.stage('run_1', 'execute');
    r.retry(notice);
    expect(quiet.out).toEqual([]);
  });
});
