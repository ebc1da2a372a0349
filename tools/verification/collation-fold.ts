// Case-insensitive source collations (MySQL/MariaDB `*_ci`) in replayed queries: `=`, `<>`, IN and LIKE over such a
// column compare case-folded on PostgreSQL (`lower(…)`, ILIKE); what depends on the collation's order or on which
// spelling a group keeps (ORDER BY, MIN/MAX, `<`, BETWEEN) is refused as a collation finding. Grouping (GROUP BY,
// DISTINCT, UNION) and the folded comparisons are recorded as uses, which the replay probes on the target's data first.
import { call, cast, intLiteral, str, textConst, TEXTUAL_TYPE, type Node } from './pg-ast.js';

/** What the source says about the column a query names (source and target names). */
export interface SourceColumn {
  table: string;
  column: string;
  targetTable: string;
  targetColumn: string;
  targetType: string;
  /** The source collation, when the catalog has one. */
  collation: string | null;
}

/**
 * A case-insensitive column a rewritten query depends on. `compare`: a comparison folded with `lower()`, exact only when
 * the column holds ASCII text (the source collation also folds accents). `group`: grouped or made distinct, exact only
 * when no two values fold together either.
 */
export interface CollationUse {
  table: string;
  column: string;
  targetTable: string;
  targetColumn: string;
  use: 'compare' | 'group';
  /** The collation ignores trailing spaces (PAD SPACE: every MySQL collation but `*_0900_*` and MariaDB `*_nopad_*`). */
  padSpace: boolean;
}

/** A construct whose result depends on a case-insensitive collation PostgreSQL does not have, naming the column. */
export class CollationDiffers extends Error {
  constructor(
    readonly table: string,
    readonly column: string,
    message: string,
  ) {
    super(message);
  }
}

export function isCaseInsensitive(c: SourceColumn | null): c is SourceColumn & { collation: string } {
  return !!c?.collation && /_ci$/i.test(c.collation) && !/^citext$/i.test(c.targetType);
}

const padsSpace = (collation: string): boolean => !/(_0900_|_nopad_)/i.test(collation);
const NON_ASCII = /[^\x00-\x7f]/;

export interface CollationContext {
  column(ref: Node): SourceColumn | null;
  uses: CollationUse[];
  mark(n: Node): Node;
}

function use(c: SourceColumn & { collation: string }, kind: CollationUse['use'], ctx: Pick<CollationContext, 'uses'>): void {
  if (ctx.uses.some((u) => u.targetTable === c.targetTable && u.targetColumn === c.targetColumn && u.use === kind)) return;
  ctx.uses.push({ table: c.table, column: c.column, targetTable: c.targetTable, targetColumn: c.targetColumn, use: kind, padSpace: padsSpace(c.collation) });
}

function differs(c: SourceColumn & { collation: string }, what: string, why: string): never {
  throw new CollationDiffers(c.table, c.column, `${what} over ${c.table}.${c.column} (collation ${c.collation}) ${why}`);
}

const ciColumn = (n: Node | undefined, ctx: Pick<CollationContext, 'column'>): (SourceColumn & { collation: string }) | null => {
  if (!n?.ColumnRef) return null;
  const c = ctx.column(n);
  return isCaseInsensitive(c) ? c : null;
};

const stringLiteral = (n: Node | undefined): string | undefined => (n?.A_Const as { sval?: { sval?: string } } | undefined)?.sval?.sval;

/**
 * Folds one comparison of a MySQL query in place when a side is a case-insensitive column; throws CollationDiffers for
 * an order comparison over one. Returns whether it changed the node.
 */
export function foldComparison(wrapper: Node, ctx: CollationContext): boolean {
  const e = wrapper.A_Expr as { kind: string; name?: Node[]; lexpr?: Node; rexpr?: Node } | undefined;
  if (!e) return false;
  const name = str(e.name?.[0]) ?? '';
  const left = ciColumn(e.lexpr, ctx);
  const right = ciColumn(e.rexpr, ctx);
  const ci = left ?? right;
  if (!ci) return false;
  const other = left ? e.rexpr : e.lexpr;
  // Another column with a case-sensitive collation decides the comparison (MySQL's coercibility: binary wins).
  if (other?.ColumnRef && !ciColumn(other, ctx) && ctx.column(other)?.collation) return false;
  const fold = (n: Node): Node => {
    const lit = stringLiteral(n);
    if (lit !== undefined && NON_ASCII.test(lit)) differs(ci, 'a comparison with a non-ASCII text', 'folds accents and case in MySQL; lower() folds case only');
    // A column the target holds as another type (an enum) is folded as its text.
    const type = n.ColumnRef ? ctx.column(n)?.targetType : undefined;
    const text = type !== undefined && !TEXTUAL_TYPE.test(type) ? ctx.mark(cast(n, 'text')) : n;
    const lowered = ctx.mark(call(['lower'], [text]));
    return padsSpace(ci.collation) && e.kind !== 'AEXPR_LIKE' ? ctx.mark(call(['rtrim'], [lowered, textConst(' ')])) : lowered;
  };
  const comparable = (n: Node | undefined): boolean => n !== undefined && (stringLiteral(n) !== undefined || !!ciColumn(n, ctx));
  if (e.kind === 'AEXPR_OP' && ['=', '<>', '!='].includes(name)) {
    if (!comparable(other)) return false;
    e.lexpr = fold(e.lexpr!);
    e.rexpr = fold(e.rexpr!);
  } else if (e.kind === 'AEXPR_IN' && left) {
    const items = (e.rexpr?.List as { items?: Node[] } | undefined)?.items;
    if (!items) return false;
    if (!items.every(comparable)) differs(ci, 'IN (…) with items other than text literals', 'compares case-insensitively in MySQL');
    e.lexpr = fold(e.lexpr!);
    e.rexpr = { List: { items: items.map(fold) } };
  } else if (e.kind === 'AEXPR_LIKE' && left) {
    const pattern = stringLiteral(e.rexpr);
    if (pattern === undefined) differs(ci, 'LIKE with a pattern that is not a text literal', 'matches case-insensitively in MySQL');
    if (NON_ASCII.test(pattern!)) differs(ci, 'LIKE with a non-ASCII pattern', 'folds accents and case in MySQL; ILIKE folds case only');
    e.kind = 'AEXPR_ILIKE';
    e.name = [{ String: { sval: name === '!~~' ? '!~~*' : '~~*' } }];
  } else if ((e.kind === 'AEXPR_OP' && ['<', '>', '<=', '>='].includes(name)) || e.kind.includes('BETWEEN')) {
    differs(ci, `the comparison ${e.kind.includes('BETWEEN') ? 'BETWEEN' : name}`, "orders text by the collation's weights, which PostgreSQL's collations do not reproduce");
  } else return false;
  for (const c of [left, right]) if (c) use(c, 'compare', ctx);
  return true;
}

/** MIN/MAX over a case-insensitive column depends on the order; COUNT(DISTINCT …) on what folds together. */
export function checkAggregate(wrapper: Node, ctx: CollationContext): void {
  const f = wrapper.FuncCall as { funcname: Node[]; args?: Node[]; agg_distinct?: boolean } | undefined;
  if (!f) return;
  const name = str(f.funcname.at(-1))?.toLowerCase();
  for (const a of f.args ?? []) {
    const ci = ciColumn(a, ctx);
    if (!ci) continue;
    if (name === 'min' || name === 'max') differs(ci, `the function ${name.toUpperCase()}`, "picks by the collation's order, which PostgreSQL's collations do not reproduce");
    if (f.agg_distinct) use(ci, 'group', ctx);
  }
}

/**
 * GROUP BY and DISTINCT [ON] over case-insensitive columns (and every output column of a UNION/INTERSECT/EXCEPT arm
 * without ALL: `distinctArm`) are uses of kind `group`; ORDER BY over one is refused when the order reaches the result
 * (`orderMatters`: an ordered query's top level; or a LIMIT/OFFSET).
 */
export function checkClauses(s: Node, ctx: Pick<CollationContext, 'column' | 'uses'>, options: { orderMatters: boolean; distinctArm: boolean }): void {
  const list = (s.targetList as Node[] | undefined) ?? [];
  const targets = list.map((rt) => (rt.ResTarget as { val?: Node }).val).filter((v): v is Node => !!v);
  // GROUP BY / ORDER BY may name a result column by position or by its alias.
  const resolve = (n: Node | undefined): (SourceColumn & { collation: string }) | null => {
    const direct = ciColumn(n, ctx);
    if (direct || !n) return direct;
    const position = intLiteral(n);
    if (position !== null) return ciColumn(targets[position - 1], ctx);
    const fields = (n.ColumnRef as { fields?: Node[] } | undefined)?.fields;
    const alias = fields?.length === 1 ? str(fields[0]) : undefined;
    const named = alias === undefined ? undefined : list.find((rt) => (rt.ResTarget as { name?: string }).name === alias);
    return named ? ciColumn((named.ResTarget as { val?: Node }).val, ctx) : null;
  };
  const distinct = s.distinctClause as Node[] | undefined;
  const allDistinct = options.distinctArm || (distinct?.length === 1 && Object.keys(distinct[0]!).length === 0);
  const grouped = [...((s.groupClause as Node[] | undefined) ?? []), ...(allDistinct ? targets : (distinct ?? []))];
  for (const g of grouped) {
    const ci = resolve(g);
    if (ci) use(ci, 'group', ctx);
  }
  if (!options.orderMatters && !s.limitCount && !s.limitOffset) return;
  for (const sb of (s.sortClause as Node[] | undefined) ?? []) {
    const ci = resolve((sb.SortBy as { node?: Node } | undefined)?.node);
    if (ci) differs(ci, 'ORDER BY', "sorts by the collation's weights (case-insensitively), which PostgreSQL's collations do not reproduce");
  }
}

/** Why a use's probe result makes the replay inexact, or null when the data allows it. */
export function probeVerdict(u: CollationUse, probe: { nonAscii: boolean; variants: boolean }): string | null {
  if (probe.nonAscii) return `holds non-ASCII text, which the source collation compares accent-insensitively (lower() folds case only)`;
  if (u.use === 'group' && probe.variants) return `holds values that differ only in case${u.padSpace ? ' or trailing spaces' : ''}: the source groups them as one and keeps either spelling`;
  return null;
}
