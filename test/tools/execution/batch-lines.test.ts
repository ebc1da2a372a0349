// A batch as COPY text (batchLines): every row's line for the source hash, the refused rows, the direct path's text
// (source lines where they are the direct lines, rows written anew where a value is trimmed or the columns reordered)
// and the staged path's rows.
import { describe, expect, it } from 'vitest';
import type { Batch, IrValue } from '../../../core/batch.js';
import { batchLines, stagedRows } from '../../../tools/execution/batch-lines.js';
import { copyLine } from '../../../tools/execution/copy-text.js';
import type { DirectCopy } from '../../../tools/execution/direct-copy.js';

function batch(names: string[], rows: IrValue[][], extra: Partial<Batch> = {}): Batch {
  return {
    table: 't',
    columns: names.map((name) => ({ name, declaredType: 'text', logicalType: { kind: 'text' }, encoding: 'utf8' })),
    values: names.map((_, c) => rows.map((r) => r[c]!)),
    rowCount: rows.length,
    lastKey: null,
    offset: 100,
    ...extra,
  } as Batch;
}

const direct = (cols: Array<[string, boolean]>, checks: Array<(v: IrValue) => boolean> = []): DirectCopy => ({
  columns: cols.map(([name, trim]) => ({ sourceColumn: name, targetColumn: `t_${name}`, trim, checks })),
  targetColumns: cols.map(([name]) => `t_${name}`),
});

const text = (rows: IrValue[][]): string => rows.map((r) => `${copyLine(r)}\n`).join('');

describe('batchLines', () => {
  const rows: IrValue[][] = [
    [1, 'ab  ', 'x\ty'],
    [2, 'cd', null],
    [3, 'nul\u0000here', 'z'],
    [4, 'é ', 'w'],
  ];

  it('keeps every row in the source text, refuses the NUL row, and writes the trimmed rows anew for the direct COPY', () => {
    const enc = batchLines(batch(['id', 'code', 'note'], rows), direct([['id', false], ['code', true], ['note', false]]), 'unused');
    expect(enc.text.bytes().toString()).toBe(text(rows));
    expect(enc.kept).toEqual([0, 1, 3]);
    expect(enc.refused).toEqual([{ row: 2, column: 'code', rule: 'nul_byte', stage: 'stage', reason: expect.stringContaining('column code holds a NUL byte') }]);
    expect(enc.directIsSource).toBe(false);
    expect(enc.direct!.toString()).toBe(text([[1, 'ab', 'x\ty'], [2, 'cd', null], [4, 'é', 'w']]));
    expect(stagedRows(enc).toString()).toBe(`0\t${copyLine(rows[0]!)}\n1\t${copyLine(rows[1]!)}\n3\t${copyLine(rows[3]!)}\n`);
  });

  it('gives the source text itself as the direct text when nothing is refused, trimmed or reordered', () => {
    const clean = [rows[1]!, [5, 'ef', 'v']];
    const enc = batchLines(batch(['id', 'code', 'note'], clean), direct([['id', false], ['code', true], ['note', false]]), 'unused');
    expect(enc.directIsSource).toBe(true);
    expect(enc.direct!.equals(enc.text.bytes())).toBe(true);
  });

  it('writes the target order when the direct columns are reordered or fewer', () => {
    const clean = [rows[1]!, [5, 'ef', 'v']];
    const enc = batchLines(batch(['id', 'code', 'note'], clean), direct([['note', false], ['id', false]]), 'unused');
    expect(enc.directIsSource).toBe(false);
    expect(enc.direct!.toString()).toBe(text([[null, 2], ['v', 5]]));
  });

  it('takes no direct path when a check fails (naming the row in read order) or a read refused the row', () => {
    const failing = batchLines(batch(['id', 'code', 'note'], [rows[1]!, [5, 'ef', 'v']]), direct([['id', false]], [(v) => v !== 5]), 'unused');
    expect(failing.direct).toBeNull();
    expect(failing.why).toBe('a value of row 102 (in read order) needs its rule checked in SQL');
    expect(failing.kept).toEqual([0, 1]);
    const refusedByRead = batchLines(batch(['id'], [[1], [2]], { rejects: [{ row: 1, column: 'id', rule: 'invalid_date', reason: 'bad' }] } as Partial<Batch>), null, 'no direct path here');
    expect(refusedByRead.refused).toEqual([{ row: 1, column: 'id', rule: 'invalid_date', stage: 'read', reason: 'bad' }]);
    expect(refusedByRead.why).toBe('no direct path here');
    expect(refusedByRead.text.bytes().toString()).toBe('1\n2\n');
  });
});
