// One batch as COPY text, the way execution and capture both see it: every row's line (the source hash's bytes), the
// rows that cannot reach the target and why, and the direct path's text when every kept row passes its checks.
import type { Batch, IrValue } from '../../core/batch.js';
import { CopyTextWriter } from './copy-text.js';
import { checkDirect, writeDirectRow, type DirectCopy } from './direct-copy.js';

/** A row that never reaches the target: the source could not read a value of it, or it holds a NUL byte. */
export interface RowRefusal {
  row: number;
  column: string;
  rule: string;
  stage: 'read' | 'stage';
  reason: string;
}

export interface BatchLines {
  /** Every row read, in read order, as its COPY line (row r of the writer): the source hash covers these bytes. */
  text: CopyTextWriter;
  /** The rows that can reach the target (positions in the batch), in read order. */
  kept: number[];
  /** The others, in read order. */
  refused: RowRefusal[];
  /** The direct path's COPY text of the kept rows; null when the batch cannot go direct (`why`). */
  direct: Buffer | null;
  /** The direct text is every row's source line: `text` (`direct` is its bytes). */
  directIsSource: boolean;
  why: string | null;
}

/**
 * Encode `batch`. `direct` is the table's direct path, or null with `noDirect` saying why there is none. Rows the
 * source refused (`batch.rejects`, several values of one row named together) and rows holding a NUL byte, which
 * PostgreSQL text cannot store, are refused; the others are kept and, with a direct path, checked (`checkDirect`).
 */
export function batchLines(batch: Batch, direct: DirectCopy | null, noDirect: string): BatchLines {
  const names = batch.columns.map((c) => c.name);
  const readRejects = new Map<number, { column: string; rule: string; reason: string }>();
  for (const x of batch.rejects ?? []) {
    const seen = readRejects.get(x.row);
    readRejects.set(x.row, seen ? { ...seen, reason: `${seen.reason}; ${x.reason}`, rule: seen.rule === x.rule ? seen.rule : `${seen.rule},${x.rule}` } : x);
  }
  const from = direct ? direct.columns.map((c) => names.indexOf(c.sourceColumn)) : [];
  let goDirect = direct !== null && from.every((i) => i >= 0);
  let why: string | null = goDirect ? null : direct ? 'a source column of the direct path is not in the batch' : noDirect;
  const sameOrder = from.length === names.length && from.every((i, k) => i === k);
  /** Kept rows whose direct line is not their source line (a value trimmed, or the columns in another order). */
  const rewritten: number[] = [];
  const text = new CopyTextWriter(batch.rowCount * 48);
  const out: BatchLines = { text, kept: [], refused: [], direct: null, directIsSource: false, why: null };
  const ncol = names.length;
  const columns = batch.values;
  const values = new Array<IrValue>(ncol);
  for (let r = 0; r < batch.rowCount; r++) {
    let nulCol = -1;
    for (let c = 0; c < ncol; c++) {
      const v = columns[c]![r] ?? null;
      values[c] = v;
      if (text.field(v) && nulCol < 0) nulCol = c;
    }
    text.endRow();
    if (readRejects.size > 0) {
      const bad = readRejects.get(r);
      if (bad) {
        out.refused.push({ row: r, column: bad.column, rule: bad.rule, stage: 'read', reason: bad.reason });
        continue;
      }
    }
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
    if (goDirect) {
      const checked = checkDirect(direct!, from, values);
      if (checked === 'fails') {
        goDirect = false;
        why = `a value of row ${batch.offset + r + 1} (in read order) needs its rule checked in SQL`;
      } else if (checked === 'trimmed' || !sameOrder) rewritten.push(r);
    }
  }
  if (goDirect) {
    out.directIsSource = rewritten.length === 0 && out.kept.length === batch.rowCount;
    out.direct = out.directIsSource ? text.bytes() : directText(batch, direct!, from, out.kept, rewritten, text);
  }
  out.why = why;
  return out;
}

/** The direct COPY text of the kept rows: a row's source line where it is its direct line, else written anew. */
function directText(batch: Batch, direct: DirectCopy, from: readonly number[], kept: readonly number[], rewritten: readonly number[], text: CopyTextWriter): Buffer {
  const lines = new CopyTextWriter(text.bytes().length);
  const values = new Array<IrValue>(batch.columns.length);
  let next = 0;
  for (const r of kept) {
    if (rewritten[next] === r) {
      next++;
      for (let c = 0; c < values.length; c++) values[c] = batch.values[c]![r] ?? null;
      writeDirectRow(direct, from, values, lines);
    } else lines.copyRow(text, r);
  }
  return lines.bytes();
}

/** The kept rows as the staged path COPYs them: each row's position in the batch, a tab, then its line. */
export function stagedRows(enc: BatchLines): Buffer {
  const out = new CopyTextWriter(enc.text.bytes().length + 8 * enc.kept.length);
  for (const r of enc.kept) {
    out.ascii(`${r}\t`);
    out.copyRow(enc.text, r);
  }
  return out.bytes();
}
