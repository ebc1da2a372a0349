// What sample values say about a column: its text format (dates, flags) and how much two columns' values overlap.

/**
 * Sample values per column, keyed by `columnKey(table, column)`: distinct, non-null, as text. Held in memory only for
 * planning; never logged or stored.
 */
export type ColumnSamples = ReadonlyMap<string, readonly string[]>;

export const columnKey = (table: string, column: string): string => `${table}.${column}`;

/** A detected text format that needs a transformation other than a plain cast. */
export type ValueFormat =
  | { kind: 'date'; format: 'YYYYMMDD' | 'DD/MM/YYYY' | 'MM/DD/YYYY' | 'YYYY-MM-DD' | 'DD.MM.YYYY' }
  | { kind: 'flag'; format: string; trueValue: string; falseValue: string };

/** Pairs of flag letters/words, true value first. */
const FLAG_PAIRS: ReadonlyArray<readonly [string, string]> = [
  ['Y', 'N'], ['YES', 'NO'], ['T', 'F'], ['TRUE', 'FALSE'], ['A', 'I'], ['ACTIVE', 'INACTIVE'], ['1', '0'], ['J', 'N'],
  ['ON', 'OFF'],
];

const DATE_SHAPES: ReadonlyArray<{ format: Extract<ValueFormat, { kind: 'date' }>['format']; re: RegExp; order: [number, number, number] }> = [
  // order: positions (1-based capture groups) of year, month, day
  { format: 'YYYYMMDD', re: /^(\d{4})(\d{2})(\d{2})$/, order: [1, 2, 3] },
  { format: 'YYYY-MM-DD', re: /^(\d{4})-(\d{2})-(\d{2})$/, order: [1, 2, 3] },
  { format: 'DD/MM/YYYY', re: /^(\d{2})\/(\d{2})\/(\d{4})$/, order: [3, 2, 1] },
  { format: 'MM/DD/YYYY', re: /^(\d{2})\/(\d{2})\/(\d{4})$/, order: [3, 1, 2] },
  { format: 'DD.MM.YYYY', re: /^(\d{2})\.(\d{2})\.(\d{4})$/, order: [3, 2, 1] },
];

/**
 * The format every sample value has, or undefined. Dates need every value to be a valid calendar date in that shape
 * (so `DD/MM/YYYY` and `MM/DD/YYYY` are told apart by a day above 12); flags need exactly the two values of a known
 * pair (one of them may be absent from the sample only if the column has a flag-like name — not decided here).
 */
export function detectFormat(values: readonly string[]): ValueFormat | undefined {
  const vs = values.map((v) => v.trim()).filter((v) => v.length > 0);
  if (vs.length === 0) return undefined;
  const distinct = new Set(vs.map((v) => v.toUpperCase()));
  if (distinct.size <= 2) {
    for (const [t, f] of FLAG_PAIRS) {
      if ([...distinct].every((v) => v === t || v === f) && distinct.size === 2) {
        const sample = vs.find((v) => v.toUpperCase() === t) ?? t;
        const caseOf = (x: string): string => (sample === sample.toLowerCase() ? x.toLowerCase() : x);
        return { kind: 'flag', format: `${caseOf(t)}/${caseOf(f)}`, trueValue: caseOf(t), falseValue: caseOf(f) };
      }
    }
  }
  for (const shape of DATE_SHAPES) {
    if (vs.every((v) => validDate(v, shape.re, shape.order))) return { kind: 'date', format: shape.format };
  }
  return undefined;
}

function validDate(v: string, re: RegExp, [y, m, d]: [number, number, number]): boolean {
  const g = re.exec(v);
  if (!g) return false;
  const year = Number(g[y]);
  const month = Number(g[m]);
  const day = Number(g[d]);
  if (year < 1000 || month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Values compared across systems: trimmed, case-folded, numbers in one spelling (`4.0` = `4`). */
export function normaliseValue(v: string): string {
  const t = v.trim().toLowerCase();
  if (/^[-+]?\d+(\.\d+)?$/.test(t)) {
    const n = Number(t);
    if (Number.isFinite(n)) return String(n);
  }
  return t;
}

export interface ValueOverlap {
  /** Share of the smaller side's distinct values found on the other side, in [0, 1]. */
  containment: number;
  /**
   * How much the overlap can be trusted, in [0, 1]: grows with the number of distinct values (one or two values say
   * little: every flag column overlaps every other) and with how alike the two sides' distinct counts are.
   */
  weight: number;
}

/** Overlap of two columns' sample values; undefined when either side has no data. */
export function valueOverlap(a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): ValueOverlap | undefined {
  if (!a || !b || a.size === 0 || b.size === 0) return undefined;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let common = 0;
  for (const v of small) if (large.has(v)) common++;
  const variety = Math.min(1, small.size / 5);
  const balance = 0.5 + (0.5 * small.size) / large.size;
  return { containment: common / small.size, weight: variety * balance };
}

/** Largest code list translated through a literal CASE. */
const MAX_CODES = 12;

/**
 * A translation of source codes into target codes, when both columns hold a few distinct values that pair up one to
 * one by prefix, ignoring case (`male` → `m`, `Active` → `ACT`). Undefined when the values already agree, when a code
 * has no partner or several, or when there are too many codes for a literal CASE.
 */
export function codeTranslation(source: readonly string[], target: readonly string[]): Map<string, string> | undefined {
  const s = [...new Set(source.map((v) => v.trim()).filter((v) => v !== ''))];
  const t = [...new Set(target.map((v) => v.trim()).filter((v) => v !== ''))];
  if (s.length < 2 || t.length < 2 || s.length > MAX_CODES || t.length > MAX_CODES) return undefined;
  const tLower = new Set(t.map((v) => v.toLowerCase()));
  if (s.filter((v) => tLower.has(v.toLowerCase())).length >= s.length / 2) return undefined;
  const out = new Map<string, string>();
  const used = new Set<string>();
  for (const sv of s) {
    const a = sv.toLowerCase();
    const partners = t.filter((tv) => {
      const b = tv.toLowerCase();
      return a !== b && (a.startsWith(b) || b.startsWith(a));
    });
    if (partners.length !== 1 || used.has(partners[0]!)) return undefined;
    used.add(partners[0]!);
    out.set(sv, partners[0]!);
  }
  return out;
}
