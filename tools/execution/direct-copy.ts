// The direct path of a batch: COPY straight into the target table when PostgreSQL's own input functions do exactly
// what the plan's transformations would do, and every validation rule is one Node can decide for the batch.
import type { IrValue } from '../../core/batch.js';
import type { TableMapping } from '../../core/plan.js';
import { quoteIdent } from '../planning/identifiers.js';
import { recogniseRule, type KnownRule } from '../planning/transformations.js';
import { stagedText, type CopyTextWriter } from './copy-text.js';

/**
 * Target types whose text input function is what `CAST(text AS type)` runs, with no difference between an explicit
 * cast and storing (COPY). Left out on purpose: bit(n) (an explicit cast pads or truncates, COPY refuses) and every
 * type not listed (no claim made for it). character(n) and character varying(n) are in only with a max_length rule
 * of the same n, which keeps the explicit cast's silent truncation from ever happening.
 */
const PLAIN_TYPES = /^(smallint|integer|bigint|numeric(\(\d+,\d+\))?|real|double precision|text|date|timestamp (with|without) time zone|time without time zone|boolean|uuid|jsonb|json|bytea|interval)$/;
const LENGTH_TYPES = /^(character varying|character)\((\d+)\)$/;

/** A value's check: true only when the rule's SQL predicate surely holds for it (false sends the batch to SQL). */
type Check = (v: IrValue) => boolean;

export interface DirectColumn {
  sourceColumn: string;
  targetColumn: string;
  /** `rtrim(src.col)` in the transformation: trailing blanks (U+0020) removed before the cast. */
  trim: boolean;
  checks: Check[];
}

export interface DirectCopy {
  columns: DirectColumn[];
  /** Raw target column names, in the order the COPY lines carry them. */
  targetColumns: string[];
}

/** The column types of `relation` (quoted, possibly qualified) as `format_type()` prints them, by column name. */
export async function columnTypes(db: { query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[] }> }, relation: string): Promise<Map<string, string>> {
  const res = await db.query<{ name: string; type: string }>(
    'SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = CAST($1 AS regclass) AND attnum > 0 AND NOT attisdropped',
    [relation],
  );
  return new Map(res.rows.map((r) => [r.name, r.type]));
}

/**
 * How the rows of `mapping` can be COPYed straight into its target, or why not (the staged path then does the table).
 * `targetTypes` are the target columns' types as `format_type()` prints them. Every transformation must be a plain
 * cast of its source column to the column's exact type (optionally after `rtrim`), and every rule one this module
 * decides: a rule written by the planner and left as it was (`recogniseRule`), or a key rule the target enforces.
 */
export function directCopyFor(mapping: TableMapping, targetTypes: ReadonlyMap<string, string>): DirectCopy | { refused: string } {
  const columns: DirectColumn[] = [];
  for (const c of mapping.columns) {
    const where = `${mapping.source}.${c.sourceColumn} → ${c.targetColumn}`;
    const actual = targetTypes.get(c.targetColumn);
    if (actual !== c.targetType) return { refused: `${where}: the target column is ${actual ?? 'missing'}, the plan says ${c.targetType}` };
    const v = `src.${quoteIdent(c.sourceColumn)}`;
    const t = c.targetType;
    const forms = new Map<string, boolean>([
      [`CAST(${v} AS ${t})`, false],
      [`CAST(rtrim(${v}) AS ${t})`, true],
      ...(t === 'text' ? ([[v, false], [`rtrim(${v})`, true]] as const) : []),
    ]);
    const trim = forms.get(c.transformation);
    if (trim === undefined) return { refused: `${where}: transformation is not a plain cast` };
    const rules: KnownRule[] = [];
    for (const r of c.validationRules) {
      const known = recogniseRule(c.sourceColumn, r.predicate);
      if (!known) return { refused: `${where}: rule ${r.rule} is not one Sensei wrote` };
      rules.push(known);
    }
    const length = LENGTH_TYPES.exec(t);
    if (length) {
      const n = Number(length[2]);
      if (!rules.some((r) => r.kind === 'max_length' && r.chars === n && r.trimmed === trim)) return { refused: `${where}: ${t} without its max_length rule` };
    } else if (!PLAIN_TYPES.test(t)) return { refused: `${where}: no direct path for type ${t}` };
    const checks: Check[] = [];
    for (const r of rules) {
      const check = checkFor(r);
      if (check) checks.push(check);
    }
    columns.push({ sourceColumn: c.sourceColumn, targetColumn: c.targetColumn, trim, checks });
  }
  return { columns, targetColumns: columns.map((c) => c.targetColumn) };
}

const rtrimBlanks = (s: string): string => {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x20) end--;
  return end === s.length ? s : s.slice(0, end);
};

/** Characters as PostgreSQL's char_length counts them (code points). */
function codePoints(s: string, atMost: number): number {
  if (s.length <= atMost) return s.length;
  let n = 0;
  for (const _ of s) n++;
  return n;
}

const DIGITS = /^-?[0-9]{1,15}$/;
const ISO_DATE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;
const ISO_TIMESTAMP = /^[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?)?$/;
const DECIMAL = /^-?([0-9]+)(?:\.([0-9]+))?$/;
const FLOAT = /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]{1,3})?$/;
const BOOL_WORDS = new Set(['t', 'f', 'true', 'false', '1', '0', 'y', 'n', 'yes', 'no', 'on', 'off']);

/**
 * A check that is true only when the rule's predicate is true for the value (it may be false when the predicate is
 * true: the batch then takes the staged path, where SQL decides). Null: nothing to check (the target enforces it).
 */
function checkFor(rule: KnownRule): Check | null {
  switch (rule.kind) {
    case 'key':
      return null;
    case 'not_null':
      return (v) => v !== null;
    case 'max_length':
      return (v) => {
        const s = stagedText(v);
        if (s === null) return true;
        const text = rule.trimmed ? rtrimBlanks(s) : s;
        return codePoints(text, rule.chars) <= rule.chars;
      };
    case 'integer_range': {
      // The bounds as doubles, so no BigInt is made per value: a bound is either a safe integer (exact as a double)
      // or beyond ±2^53, where its rounding cannot reach a safe integer; safe integers compare with it exactly.
      const lo = Number(rule.min);
      const hi = Number(rule.max);
      return (v) => {
        if (v === null) return true;
        if (typeof v === 'number') return Number.isSafeInteger(v) && v >= lo && v <= hi;
        const s = stagedText(v)!;
        // At most 15 digits: a safe integer, so Number(s) is exact.
        if (!DIGITS.test(s)) return false;
        const n = Number(s);
        return n >= lo && n <= hi;
      };
    }
    case 'numeric_range':
      return (v) => {
        if (v === null) return true;
        const m = DECIMAL.exec(stagedText(v)!);
        if (!m) return false;
        const integer = m[1]!.replace(/^0+/, '');
        const fraction = (m[2] ?? '').replace(/0+$/, '');
        return integer.length <= rule.integerDigits && fraction.length <= rule.scale;
      };
    case 'date_format':
      return (v) => v === null || (typeof v === 'string' && ISO_DATE.test(v));
    case 'timestamp_format':
      return (v) => v === null || (typeof v === 'string' && ISO_TIMESTAMP.test(v));
    case 'float_format':
      return (v) => v === null || (typeof v === 'number' ? Number.isFinite(v) : FLOAT.test(stagedText(v)!));
    case 'boolean_words':
      return (v) => v === null || typeof v === 'boolean' || BOOL_WORDS.has(String(stagedText(v)))
  }
}

/**
 * One kept row on the direct path: `fails` when a check fails (the batch then takes the staged path), `trimmed` when
 * trimming changes one of its values (its direct line is not its source line), else `same`. `from[i]` is the batch
 * column of target column i.
 */
export function checkDirect(plan: DirectCopy, from: readonly number[], values: readonly IrValue[]): 'fails' | 'trimmed' | 'same' {
  let trimmed = false;
  for (let i = 0; i < plan.columns.length; i++) {
    const col = plan.columns[i]!;
    const v = values[from[i]!] ?? null;
    for (const check of col.checks) if (!check(v)) return 'fails';
    if (col.trim && typeof v === 'string' && v.charCodeAt(v.length - 1) === 0x20) trimmed = true;
  }
  return trimmed ? 'trimmed' : 'same';
}

/** Writes the row's direct line: the target columns' values in their order, trailing blanks trimmed where the cast trims them. */
export function writeDirectRow(plan: DirectCopy, from: readonly number[], values: readonly IrValue[], out: CopyTextWriter): void {
  for (let i = 0; i < plan.columns.length; i++) {
    const v = values[from[i]!] ?? null;
    out.field(plan.columns[i]!.trim && typeof v === 'string' ? rtrimBlanks(v) : v);
  }
  out.endRow();
}
