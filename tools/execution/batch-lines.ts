// One batch as COPY text, the way execution and capture both see it: every row's line (the source hash's text), the
// rows that cannot reach the target and why, and the direct path's lines when every kept row passes its checks.
import type { Batch, IrValue } from '../../core/batch.js';
import { copyField, hasNulByte } from './copy-text.js';
import { directLine, type DirectCopy } from './direct-copy.js';

/** A row that never reaches the target: the source could not read a value of it, or it holds a NUL byte. */
export interface RowRefusal {
  row: number;
  column: string;
  rule: string;
  stage: 'read' | 'stage';
  reason: string;
}

export interface BatchLines {
  /** Every row read, in read order, as its COPY line. */
  lines: string[];
  /** The rows that can reach the target (positions in the batch), in read order. */
  kept: number[];
  /** The others, in read order. */
  refused: RowRefusal[];
  /** The direct path's COPY lines of the kept rows; null when the batch cannot go direct (`why`). */
  direct: string[] | null;
  /** The direct lines are every row's source line: `lines` is the direct COPY's text too. */
  directIsSource: boolean;
  why: string | null;
}

/**
 * Encode `batch`. `direct` is the table's direct path, or null with `noDirect` saying why there is none. Rows the
 * source refused (`batch.rejects`, several values of one row named together) and rows holding a NUL byte, which
 * PostgreSQL text cannot store, are refused; the others are kept and, with a direct path, checked (`directLine`).
 */
export function batchLines(batch: Batch, direct: DirectCopy | null, noDirect: string): BatchLines {
  const names = batch.columns.map((c) => c.name);
  const readRejects = new Map<number, { column: string; rule: string; reason: string }>();
  for (const x of batch.rejects ?? []) {
    const seen = readRejects.get(x.row);
    readRejects.set(x.row, seen ? { ...seen, reason: `${seen.reason}; ${x.reason}`, rule: seen.rule === x.rule ? seen.rule : `${seen.rule},${x.rule}` } : x);
  }
  const from = direct ? direct.columns.map((c) => names.indexOf(c.sourceColumn)) : [];
  let lines: string[] | null = direct && from.every((i) => i >= 0) ? [] : null;
  let why: string | null = lines ? null : direct ? 'a source column of the direct path is not in the batch' : noDirect;
  const sameOrder = from.length === names.length && from.every((i, k) => i === k);
  let sameText = true;
  const out: BatchLines = { lines: new Array<string>(batch.rowCount), kept: [], refused: [], direct: null, directIsSource: false, why: null };
  const ncol = names.length;
  const values = new Array<IrValue>(ncol);
  const fields = new Array<string>(ncol);
  for (let r = 0; r < batch.rowCount; r++) {
    for (let c = 0; c < ncol; c++) {
      values[c] = batch.values[c]![r] ?? null;
      fields[c] = copyField(values[c]!);
    }
    const line = fields.join('\t');
    out.lines[r] = line;
    const bad = readRejects.get(r);
    if (bad) {
      out.refused.push({ row: r, column: bad.column, rule: bad.rule, stage: 'read', reason: bad.reason });
      continue;
    }
    const nulCol = hasNulByte(line) ? values.findIndex(hasNulByte) : -1;
    if (nulCol >= 0) {
      out.refused.push({
        row: r,
        column: names[nulCol]!,
        rule: 'nul_byte',
        stage: 'stage',
        reason: `column ${names[nulCol]} holds a NUL byte (U+0000), which PostgreSQL text cannot store: clean the value at the source or map the column to bytea`,
      });
      continue;
    }
    out.kept.push(r);
    if (lines) {
      const typed = directLine(direct!, from, values, fields, line, sameOrder);
      if (typed === null) {
        lines = null;
        why = `a value of row ${batch.offset + r + 1} (in read order) needs its rule checked in SQL`;
      } else {
        lines.push(typed);
        sameText &&= typed === line;
      }
    }
  }
  out.direct = lines;
  out.directIsSource = lines !== null && sameText && out.kept.length === batch.rowCount;
  out.why = why;
  return out;
}
