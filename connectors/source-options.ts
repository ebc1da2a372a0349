// Options every source connector honours, and the date checks that back the `zero_dates` policy.
import type { BatchReject } from '../core/batch.js';

/**
 * What a source does with a date PostgreSQL cannot store (MySQL's `0000-00-00`, zero-in-date `2020-00-15`, year 0,
 * `2021-02-31` under ALLOW_INVALID_DATES). `error` (default): keep the row out of the target and put it in the error
 * queue with rule `zero_date` (`invalid_date` for an impossible day) and the reason. `null`: load the value as NULL — only when someone chose so in the
 * configuration; never by default, because it silently loses information.
 */
export type ZeroDatePolicy = 'error' | 'null';

/**
 * What a source does with text that looks double-encoded (UTF-8 bytes stored through a latin1 connection: `Ã©` for
 * `é`). `report` (default): count such values per column in the catalog (shown as plan warnings) and load them as they
 * are. `repair`: also turn each one back into the text meant, in every text column; a list of `table.column` repairs
 * only those columns. A repaired value is never changed silently: the batch lists it under `repairs`; a value with the
 * mark that does not round-trip goes to the error queue with rule `double_encoding`.
 */
export type DoubleEncodingPolicy = 'report' | 'repair' | readonly string[];

export interface SourceOptions {
  /** Default `error`. */
  zeroDates?: ZeroDatePolicy;
  /** Default `report` (MySQL/MariaDB sources; see `DoubleEncodingPolicy`). */
  doubleEncoding?: DoubleEncodingPolicy;
}

/** Whether `policy` repairs double-encoded values of `table.column`. */
export function repairsDoubleEncoding(policy: DoubleEncodingPolicy | undefined, table: string, column: string): boolean {
  if (policy === undefined || policy === 'report') return false;
  if (policy === 'repair') return true;
  return policy.some((c) => c.toLowerCase() === `${table}.${column}`.toLowerCase());
}

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The number written by `count` ASCII digits of `text` from `at`, or -1 when one is not a digit. */
function digits(text: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * Why a `YYYY-MM-DD[ hh:mm:ss…]` value cannot be a PostgreSQL date, or null when it can. Never quotes the value.
 * `0009-12-04` is a valid date and stays one.
 */
export function invalidDateReason(text: string): string | null {
  // Read digit by digit: this runs on every date value read (no regex match objects on the hot path).
  if (text.length < 10 || text.charCodeAt(4) !== 0x2d || text.charCodeAt(7) !== 0x2d) return null;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  if (year < 0 || month < 0 || day < 0) return null;
  if (year === 0 && month === 0 && day === 0) return 'the zero date 0000-00-00';
  if (month === 0 || day === 0) return 'a zero-in-date value (month or day 00)';
  if (year === 0) return 'a date in year 0000';
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (month > 12 || day > (month === 2 && !leap ? 28 : DAYS[month - 1]!)) return 'an impossible date (day or month out of range)';
  return null;
}

/**
 * Apply the policy to one date-like text value read at `row` of a batch: returns the value to hand out and, under
 * `error`, records a reject for the row (the value itself is kept for the error queue).
 */
export function applyDatePolicy(
  text: string,
  policy: ZeroDatePolicy,
  // Where, as plain arguments: this runs on every date value read, and an object per call would be garbage per value.
  table: string,
  column: string,
  row: number,
  rejects: BatchReject[],
): string | null {
  const bad = invalidDateReason(text);
  if (bad === null) return text;
  if (policy === 'null') return null;
  rejects.push({
    row,
    column,
    // Zero dates are MySQL's deliberate "no date"; an impossible day is broken data: the rule tells them apart.
    rule: bad.startsWith('an impossible') ? 'invalid_date' : 'zero_date',
    reason: `${table}.${column} holds ${bad}, which PostgreSQL cannot store; fix the source value, or set zero_dates: null in the configuration to load it as NULL`,
  });
  return text;
}

/** Logical kinds whose values are checked by `applyDatePolicy`. */
export const DATE_KINDS: ReadonlySet<string> = new Set(['date', 'timestamp', 'timestamptz']);

/**
 * Row positions (0-based, in key order) of the last row of each of `parts` about equal key ranges but the last; each
 * range holds a multiple of `align` rows (but the last), so its segments start where an unsplit load's would.
 */
export function rangeCuts(total: number, parts: number, align = 1): number[] {
  const step = Math.max(1, Math.floor(align));
  const cuts = Array.from({ length: Math.max(0, parts - 1) }, (_, i) => Math.round((total * (i + 1)) / parts / step) * step - 1);
  return [...new Set(cuts.filter((at) => at >= 0 && at < total - 1))];
}
