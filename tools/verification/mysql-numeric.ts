// MySQL/MariaDB arithmetic replayed on PostgreSQL with the source's values. `/` between exact numbers gives a decimal
// (7/2 = 3.5000, not 3): MySQL keeps the quotient truncated to the dividend's scale + div_precision_increment (4) rounded
// up to a multiple of 9 digits (1/3 is 0.333333333 inside), passes that through functions, casts and CASE, and rounds
// it to the dividend's scale + 4 where the value leaves the arithmetic (a result column, a comparison): 1/3*3 = 1.0000,
// CAST(1/3 AS DECIMAL(20,10)) = 0.3333333330. AVG is such a quotient too. `DIV` and `MOD` divide by zero into NULL, and
// CAST to SIGNED/UNSIGNED/DECIMAL keeps MySQL's rounding and wrap-around. What cannot be reproduced exactly is refused,
// naming the operand.
import { bigConst, call, cast, describe, funcName, intConst, intLiteral, nullIfZero, op, operatorOf, str, type Node } from './pg-ast.js';

/** MySQL's decimal digits per word: a quotient's hidden digits come in multiples of 9. */
const DIGITS_PER_WORD = 9;

/** MySQL's `div_precision_increment` default: the digits a quotient gets beyond its dividend's. */
export const DIV_PRECISION_INCREMENT = 4;

/** A decimal scale (digits after the point), `float` for a double, or the operand whose scale cannot be told. */
export type Scale = number | 'float' | { unknown: Node };

export interface NumericContext {
  /** The target type of the mapped column a ColumnRef names; null when unknown. */
  columnType(ref: Node): string | null;
  /** Throws the translation's refusal. */
  refuse(what: string, why: string): never;
  /** Marks a node this translation built (already PostgreSQL: not translated again). */
  mark(n: Node): Node;
  /** Replaces the node being translated in place. */
  replace(next: Node): void;
  /** Nodes inside an arithmetic expression already rounded at its root. */
  inner: WeakSet<object>;
}

const ARITHMETIC = new Set(['+', '-', '*', '/', '%']);
/** Functions that take a quotient with its hidden digits (so it is rounded after them). */
const NUMERIC_FUNCTIONS = new Set(['sum', 'avg', 'min', 'max', 'abs', 'round', 'floor', 'ceil', 'ceiling', 'mod', 'div', 'if', 'ifnull']);
const NUMERIC_CASTS = new Set(['signed', 'unsigned', 'numeric']);
const INTEGER_TYPE = /^(smallint|integer|bigint|int[248]?|numeric\(\d+\)|numeric\(\d+,\s*0\))$/i;
const DECIMAL_TYPE = /^numeric\(\d+,\s*(\d+)\)$/i;
const FLOAT_TYPE = /^(real|double precision|float[48]?)$/i;
const TWO_TO_64 = '18446744073709551616';

/**
 * Whether a node passes a quotient's value on with its hidden digits: an arithmetic operator, a numeric function, IF,
 * IFNULL, CASE, COALESCE, a numeric CAST.
 */
function isArithmetic(n: Node): boolean {
  if (n.CaseExpr || n.CoalesceExpr) return true;
  if (n.TypeCast) return NUMERIC_CASTS.has(str((n.TypeCast as { typeName: { names: Node[] } }).typeName.names.at(-1)) ?? '');
  return ARITHMETIC.has(operatorOf(n) ?? '') || NUMERIC_FUNCTIONS.has(funcName(n) ?? '');
}

/** The operands whose values such a node passes on: both sides of an operator, the arguments, CASE results. */
function operands(n: Node): Node[] {
  if (n.A_Expr) {
    const e = n.A_Expr as { lexpr?: Node; rexpr?: Node };
    return [e.lexpr, e.rexpr].filter((x): x is Node => x !== undefined);
  }
  if (n.CaseExpr) {
    const c = n.CaseExpr as { args: Node[]; defresult?: Node };
    return c.args.map((w) => (w.CaseWhen as { result: Node }).result).concat(c.defresult ? [c.defresult] : []);
  }
  if (n.CoalesceExpr) return (n.CoalesceExpr as { args: Node[] }).args.slice();
  if (n.TypeCast) return [(n.TypeCast as { arg: Node }).arg];
  const args = (n.FuncCall as { args?: Node[] } | undefined)?.args ?? [];
  return funcName(n) === 'if' ? args.slice(1) : args.slice();
}

/** The hidden digits MySQL keeps of a quotient whose dividend has `scale` digits. */
const hiddenScale = (scale: number): number => Math.ceil((scale + DIV_PRECISION_INCREMENT) / DIGITS_PER_WORD) * DIGITS_PER_WORD;

/** `a / b` truncated to `digits` decimals, exactly: div(a·10^digits, b)·10^-digits (PostgreSQL's div() truncates). */
function truncatedQuotient(a: Node, b: Node, digits: number, mark: (n: Node) => Node): Node {
  const scaled = mark(op('*', mark(cast(a, 'numeric')), bigConst(`1${'0'.repeat(digits)}`)));
  const quotient = mark(call(['div'], [scaled, mark(nullIfZero(b))]));
  return op('*', quotient, bigConst(`0.${'0'.repeat(digits - 1)}1`));
}

/** Whether MySQL computes a decimal quotient somewhere in this arithmetic (a `/` or an AVG), not below other nodes. */
function divides(n: Node): boolean {
  if (operatorOf(n) === '/' || funcName(n) === 'avg') return true;
  return operands(n).some((o) => isArithmetic(o) && divides(o));
}

/** Whether a `/` or AVG over exact numbers (a decimal quotient) is in this arithmetic. */
function dividesExactly(n: Node, ctx: NumericContext): boolean {
  if (operatorOf(n) === '/' || funcName(n) === 'avg') {
    if (operands(n).every((o) => scaleOf(o, ctx) !== 'float')) return true;
  }
  return operands(n).some((o) => isArithmetic(o) && dividesExactly(o, ctx));
}

const combine = (scales: Scale[], f: (a: number[]) => number): Scale => {
  const unknown = scales.find((s) => typeof s === 'object');
  if (unknown) return unknown;
  if (scales.includes('float')) return 'float';
  return f(scales as number[]);
};

/** The scale MySQL gives an expression's value (MySQL's rules for decimal arithmetic), before translation. */
export function scaleOf(n: Node, ctx: Pick<NumericContext, 'columnType'>): Scale {
  if (n.A_Const) {
    const c = n.A_Const as { ival?: unknown; fval?: { fval?: string }; isnull?: boolean; boolval?: unknown };
    if (c.isnull || c.ival !== undefined || c.boolval !== undefined) return 0;
    const f = c.fval?.fval;
    if (f === undefined) return { unknown: n };
    // An exponent makes a MySQL literal a double.
    return /e/i.test(f) ? 'float' : (f.split('.')[1] ?? '').length;
  }
  if (n.ColumnRef) {
    const type = ctx.columnType(n) ?? '';
    if (INTEGER_TYPE.test(type)) return 0;
    const d = DECIMAL_TYPE.exec(type);
    if (d) return Number(d[1]);
    return FLOAT_TYPE.test(type) ? 'float' : { unknown: n };
  }
  const o = operatorOf(n);
  if (o !== undefined && ARITHMETIC.has(o)) {
    const [a, b] = operands(n).map((x) => scaleOf(x, ctx));
    if (b === undefined) return a!; // unary minus or plus
    if (o === '*') return combine([a!, b], ([x, y]) => x! + y!);
    if (o === '/') return combine([a!, b], ([x]) => x! + DIV_PRECISION_INCREMENT);
    return combine([a!, b], (s) => Math.max(...s));
  }
  if (n.A_Expr && (n.A_Expr as { kind: string }).kind === 'AEXPR_NULLIF') return scaleOf((n.A_Expr as { lexpr: Node }).lexpr, ctx);
  const fname = funcName(n);
  if (fname !== undefined) {
    const args = operands(n);
    const s = (i: number): Scale => (args[i] ? scaleOf(args[i]!, ctx) : { unknown: n });
    switch (fname) {
      case 'count':
      case 'div':
        return 0;
      case 'sum':
      case 'min':
      case 'max':
      case 'abs':
        return s(0);
      case 'avg':
        return combine([s(0)], ([x]) => x! + DIV_PRECISION_INCREMENT);
      case 'floor':
      case 'ceil':
      case 'ceiling':
        return combine([s(0)], () => 0);
      case 'round': {
        if (args.length === 1) return combine([s(0)], () => 0);
        const places = intLiteral(args[1]);
        if (places === null) return { unknown: args[1]! };
        // ROUND sees a quotient with MySQL's whole intermediate precision: ROUND(1/3, 6) is 0.333333.
        return combine([s(0)], ([x]) => Math.max(0, isArithmetic(args[0]!) && divides(args[0]!) ? places : Math.min(places, x!)));
      }
      case 'mod':
      case 'ifnull':
        return combine(args.map((_, i) => s(i)), (all) => Math.max(...all));
      case 'if':
        return combine([s(0), s(1)], (all) => Math.max(...all));
      default:
        return { unknown: n };
    }
  }
  if (n.TypeCast) {
    const t = (n.TypeCast as { typeName: { names: Node[]; typmods?: Node[] } }).typeName;
    const name = str(t.names.at(-1)) ?? '';
    if (['signed', 'unsigned', 'int2', 'int4', 'int8'].includes(name)) return 0;
    if (name === 'numeric') return intLiteral(t.typmods?.[1]) ?? 0;
    if (name === 'float4' || name === 'float8') return 'float';
    return { unknown: n };
  }
  if (n.CoalesceExpr) return combine(((n.CoalesceExpr as { args: Node[] }).args ?? []).map((a) => scaleOf(a, ctx)), (all) => Math.max(...all));
  if (n.CaseExpr) {
    const c = n.CaseExpr as { args: Node[]; defresult?: Node };
    const results = c.args.map((w) => (w.CaseWhen as { result: Node }).result).concat(c.defresult ? [c.defresult] : []);
    return combine(results.map((r) => scaleOf(r, ctx)), (all) => Math.max(...all));
  }
  return { unknown: n };
}

/**
 * Translates one node of a MySQL query's arithmetic in place; returns whether it replaced the node. At the outermost
 * such node (the root) a decimal quotient below is rounded to MySQL's scale; inside, `/` and AVG keep MySQL's hidden
 * digits (or divide as doubles), and `%`, MOD and DIV return NULL for a zero divisor.
 */
export function translateMysqlArithmetic(wrapper: Node, ctx: NumericContext): boolean {
  if (!isArithmetic(wrapper)) return false;
  if (!ctx.inner.has(wrapper)) {
    markInner(wrapper, ctx.inner);
    if (divides(wrapper)) {
      const scale = scaleOf(wrapper, ctx);
      const what = describe(wrapper);
      if (typeof scale === 'object') ctx.refuse(`${what} over ${describe(scale.unknown)}`, 'the decimal scale MySQL gives the result depends on the operand type, which Sensei cannot tell (only mapped numeric columns, numeric literals and arithmetic over them are translated)');
      if (scale === 'float') {
        if (dividesExactly(wrapper, ctx)) ctx.refuse(`${what} mixing a decimal quotient with floating point`, "MySQL's intermediate decimal precision cannot be reproduced");
      } else {
        const inner = { ...wrapper };
        ctx.inner.add(inner);
        ctx.replace(ctx.mark(call(['round'], [inner, intConst(scale)])));
        return true;
      }
    }
  }
  const o = operatorOf(wrapper);
  const name = funcName(wrapper);
  const [a, b] = operands(wrapper);
  const isFloat = (x: Node | undefined): boolean => x !== undefined && scaleOf(x, ctx) === 'float';
  if (o === '/') {
    const sa = scaleOf(a!, ctx);
    if (isFloat(a) || isFloat(b) || typeof sa !== 'number') ctx.replace(op('/', a!, ctx.mark(nullIfZero(b!))));
    else ctx.replace(truncatedQuotient(a!, b!, hiddenScale(sa), ctx.mark));
  } else if (name === 'avg') {
    const f = wrapper.FuncCall as Record<string, unknown> & { args?: Node[] };
    const sx = a ? scaleOf(a, ctx) : 'float';
    if (f.args?.length !== 1 || typeof sx !== 'number') return false;
    // AVG(x) = SUM(x) / COUNT(x) with the quotient's hidden digits; DISTINCT, FILTER and OVER apply to both.
    const agg = (fn: string): Node => ctx.mark({ FuncCall: { ...f, funcname: [{ String: { sval: fn } }] } });
    ctx.replace(truncatedQuotient(agg('sum'), agg('count'), hiddenScale(sx), ctx.mark));
  } else if (o === '%' || name === 'mod') {
    if (!a || !b || operands(wrapper).length !== 2) ctx.refuse('the function MOD', 'it takes two arguments');
    // PostgreSQL has no modulo of doubles: MySQL's fmod equals the numeric one of the same values.
    const float = isFloat(a) || isFloat(b);
    const num = (x: Node): Node => (float ? ctx.mark(cast(x, 'numeric')) : x);
    ctx.replace(ctx.mark(call(['mod'], [num(a!), ctx.mark(nullIfZero(num(b!)))])));
  } else if (name === 'div') {
    if (!a || !b || operands(wrapper).length !== 2) ctx.refuse('the operator DIV', 'it takes two operands');
    // div(numeric, numeric) truncates toward zero, as MySQL's DIV does.
    ctx.replace(ctx.mark(call(['div'], [ctx.mark(cast(a!, 'numeric')), ctx.mark(nullIfZero(ctx.mark(cast(b!, 'numeric'))))])));
  } else return false;
  return true;
}

function markInner(n: Node, inner: WeakSet<object>): void {
  for (const o of operands(n)) {
    if (isArithmetic(o)) {
      inner.add(o);
      markInner(o, inner);
    }
  }
}

/**
 * MySQL CAST/CONVERT to SIGNED, UNSIGNED or DECIMAL(p,s) of a numeric operand, in place: false when the cast is to
 * another type. SIGNED rounds as PostgreSQL's bigint cast does (half away from zero for decimals, to even for doubles);
 * UNSIGNED wraps a negative integer past 2^64; DECIMAL without (p,s) is DECIMAL(10,0), and clamps a value beyond its
 * range to the largest it holds. A text operand is refused:
 * MySQL reads its leading digits, PostgreSQL refuses the text.
 */
export function translateMysqlCast(wrapper: Node, ctx: NumericContext): boolean {
  const t = wrapper.TypeCast as { arg: Node; typeName: { names: Node[]; typmods?: Node[] } } | undefined;
  const name = t ? str(t.typeName.names.at(-1)) : undefined;
  if (!t || !['signed', 'unsigned', 'numeric'].includes(name!)) return false;
  const target = name === 'numeric' ? 'DECIMAL' : name!.toUpperCase();
  const scale = scaleOf(t.arg, ctx);
  if (typeof scale === 'object') ctx.refuse(`CAST(… AS ${target}) of ${describe(t.arg)}`, 'only numeric operands are translated: MySQL reads the leading digits of a text and ignores the rest, PostgreSQL refuses such a text');
  if (name === 'signed') {
    ctx.replace(ctx.mark(cast(t.arg, 'int8')));
  } else if (name === 'unsigned') {
    if (scale !== 0) ctx.refuse(`CAST(… AS UNSIGNED) of ${describe(t.arg)}`, 'only integer operands are translated: MySQL turns a negative decimal into 0 but wraps a negative integer past 2^64');
    ctx.replace(ctx.mark(call(['mod'], [ctx.mark(op('+', ctx.mark(cast(t.arg, 'numeric')), bigConst(TWO_TO_64))), bigConst(TWO_TO_64)])));
  } else {
    const p = intLiteral(t.typeName.typmods?.[0]) ?? 10;
    const s = intLiteral(t.typeName.typmods?.[1]) ?? 0;
    // MySQL clamps a value beyond DECIMAL(p,s) to its largest (CAST(1000 AS DECIMAL(3,1)) = 99.9); PostgreSQL raises.
    const max = `${p > s ? '9'.repeat(p - s) : '0'}${s > 0 ? `.${'9'.repeat(s)}` : ''}`;
    const when = (cmp: string, bound: string): Node => ({ CaseWhen: { expr: op(cmp, structuredClone(t.arg), bigConst(bound)), result: bigConst(bound) } });
    const clamped = ctx.mark({ CaseExpr: { args: [when('>', max), when('<', `-${max}`)], defresult: t.arg } });
    ctx.replace(ctx.mark(cast(clamped, 'numeric', [p, s])));
  }
  return true;
}
