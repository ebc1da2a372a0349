// Functions and operators of a MySQL/MariaDB or SQLite query that PostgreSQL lacks or reads otherwise, translated in
// the PostgreSQL AST (libpg-query JSON) when PostgreSQL has exactly the same thing; anything else is refused naming the
// function, so a replayed query never runs with a silently different meaning. The table is in the README (Verify).
import { checkAggregate, foldComparison, type CollationUse, type SourceColumn } from './collation-fold.js';
import { translateMysqlArithmetic, translateMysqlCast } from './mysql-numeric.js';
import { call, cast, describe, intLiteral, op, str, textConst, TEXTUAL_TYPE, typeName, type Node } from './pg-ast.js';

export class UntranslatableFunction extends Error {}

export type ForeignDialect = 'mysql' | 'sqlite';

const DIALECT_NAME: Record<ForeignDialect, string> = { mysql: 'MySQL/MariaDB', sqlite: 'SQLite' };

/**
 * Functions that mean the same in the source dialect and PostgreSQL for the arguments a query gives them (aggregates,
 * case, trimming of spaces, arithmetic), kept as written.
 */
const SAME: Record<ForeignDialect, ReadonlySet<string>> = {
  mysql: new Set(['count', 'sum', 'avg', 'min', 'max', 'abs', 'lower', 'upper', 'replace', 'ltrim', 'rtrim', 'btrim', 'floor', 'ceil', 'ceiling', 'char_length', 'character_length', 'concat_ws', 'reverse', 'lpad', 'rpad', 'extract']),
  sqlite: new Set(['count', 'sum', 'avg', 'abs', 'lower', 'upper', 'replace', 'ltrim', 'rtrim', 'btrim', 'length']),
};

const PRINTS_ALIKE = /^(text|citext|name|bpchar|(character varying|varchar|character|char)(\(\d+\))?|smallint|integer|int[248]?|bigint|(numeric|decimal)(\(\d+(,\s*\d+)?\))?|date|timestamp(\(\d\))?( without time zone)?)$/i;

/** MySQL DATE_FORMAT specifiers with an exact `to_char` pattern (English month and day names, as both print them). */
const DATE_FORMAT: Record<string, string> = {
  Y: 'YYYY', y: 'YY', m: 'MM', c: 'FMMM', d: 'DD', e: 'FMDD', H: 'HH24', k: 'FMHH24', i: 'MI', s: 'SS', S: 'SS', T: 'HH24:MI:SS', j: 'DDD',
  M: 'FMMonth', b: 'Mon', W: 'FMDay', a: 'Dy',
};

export interface TranslateContext {
  dialect: ForeignDialect;
  /** The target type of the mapped column a ColumnRef names (source names, before renaming); null when unknown. */
  columnType(ref: Node): string | null;
  /** The mapped column a ColumnRef names, with its source collation; null when unknown. */
  column(ref: Node): SourceColumn | null;
  /** Where a MySQL query depends on a case-insensitive collation (collected for the replay's probes). */
  collationUses: CollationUse[];
}

/** What one query's translation remembers between nodes. */
export interface TranslateState {
  /** Nodes the translation made (they are PostgreSQL already). */
  generated: WeakSet<object>;
  /** Nodes inside a MySQL arithmetic expression whose root is already translated (mysql-numeric.ts). */
  inner: WeakSet<object>;
}

export const newTranslateState = (): TranslateState => ({ generated: new WeakSet(), inner: new WeakSet() });

/**
 * Translates one node in place (the wrapper object keeps its identity, its content is replaced); its children are
 * left to the caller's walk, which must visit parents before children. Throws UntranslatableFunction naming what has no
 * exact translation.
 */
export function translateDialectNode(wrapper: Node, ctx: TranslateContext, state: TranslateState): void {
  const { generated } = state;
  if (generated.has(wrapper)) return;
  const refuse = (what: string, why: string): never => {
    throw new UntranslatableFunction(`${what} (${DIALECT_NAME[ctx.dialect]}) has no exact PostgreSQL translation: ${why}`);
  };
  const replace = (next: Node): void => {
    for (const k of Object.keys(wrapper)) delete wrapper[k];
    Object.assign(wrapper, next);
  };
  const mark = (n: Node): Node => {
    generated.add(n);
    return n;
  };

  if (ctx.dialect === 'mysql') {
    const numeric = { columnType: ctx.columnType, refuse, mark, replace, inner: state.inner };
    if (translateMysqlArithmetic(wrapper, numeric)) return;
    if (translateMysqlCast(wrapper, numeric)) return;
    if (wrapper.CollateClause) {
      // An explicit binary or case-sensitive collation compares as PostgreSQL does; its operands are not folded.
      const c = wrapper.CollateClause as { arg: Node; collname?: Node[] };
      const name = str(c.collname?.at(-1)) ?? '';
      if (!/(_bin|_cs)$|^binary$/i.test(name)) refuse(`COLLATE ${name}`, 'only binary and case-sensitive collations are translated (by dropping them: PostgreSQL compares case-sensitively)');
      replace(c.arg);
      return translateDialectNode(wrapper, ctx, state);
    }
    const collation = { column: ctx.column, uses: ctx.collationUses, mark };
    if (foldComparison(wrapper, collation)) return;
    checkAggregate(wrapper, collation);
  }

  if (wrapper.A_Expr) {
    const e = wrapper.A_Expr as { kind: string; name?: Node[]; lexpr?: Node; rexpr?: Node };
    if (e.kind === 'AEXPR_OP' && str(e.name?.[0]) === '||') {
      if (ctx.dialect === 'mysql') refuse('the operator ||', 'it is a logical OR unless sql_mode has PIPES_AS_CONCAT; write OR, or CONCAT(…)');
      for (const side of [e.lexpr, e.rexpr]) if (side && !isText(side, ctx)) refuse(`the operator || over ${describe(side)}`, 'SQLite and PostgreSQL print non-text values differently');
    }
    return;
  }
  if (wrapper.MinMaxExpr) {
    const m = wrapper.MinMaxExpr as { op: string };
    refuse(`the function ${m.op === 'IS_GREATEST' ? 'GREATEST' : 'LEAST'}`, 'PostgreSQL ignores NULL arguments, the source returns NULL');
  }
  if (wrapper.SQLValueFunction && ctx.dialect === 'mysql') {
    const v = wrapper.SQLValueFunction as { op: string };
    if (v.op.startsWith('SVFOP_CURRENT_TIMESTAMP') || v.op.startsWith('SVFOP_LOCALTIMESTAMP')) replace(now(mark));
    else if (v.op.startsWith('SVFOP_CURRENT_TIME') || v.op.startsWith('SVFOP_LOCALTIME')) refuse('CURRENT_TIME', 'PostgreSQL returns a time with time zone');
    return;
  }
  if (wrapper.TypeCast && ctx.dialect === 'mysql') {
    // CAST(x AS CHAR) has no length in MySQL; PostgreSQL's char is char(1). CHAR(n) truncates without padding.
    const t = wrapper.TypeCast as { typeName: { names: Node[]; typmods?: Node[] } };
    const names = t.typeName.names.map(str);
    if (names.at(-1) === 'bpchar') {
      const n = intLiteral(t.typeName.typmods?.[0]);
      const implicit = ((t.typeName.typmods?.[0]?.A_Const as { location?: number } | undefined)?.location ?? -1) < 0;
      t.typeName = (implicit || n === null ? typeName('text') : typeName('varchar', [n])) as never;
    }
    return;
  }
  if (!wrapper.FuncCall) return;
  const f = wrapper.FuncCall as { funcname: Node[]; args?: Node[]; agg_star?: boolean; agg_distinct?: boolean; over?: unknown; agg_filter?: unknown; funcformat?: string };
  const parts = f.funcname.map((n) => str(n)!);
  const name = parts.at(-1)!.toLowerCase();
  // PostgreSQL's own SQL-syntax forms (TRIM, EXTRACT, SUBSTRING … FROM) come schema-qualified from its parser.
  const fname = `the function ${parts.at(-1)!.toUpperCase()}`;
  const args = f.args ?? [];
  if (parts.length > 1 && parts[0] !== 'pg_catalog') refuse(fname, 'a schema-qualified function');

  if (ctx.dialect === 'mysql') {
    switch (name) {
      case 'ifnull':
        if (args.length !== 2) refuse(fname, 'it takes two arguments');
        return replace({ CoalesceExpr: { args } });
      case 'concat_ws':
        for (const a of args) if (!printsAlike(a, ctx)) refuse(`${fname} of ${describe(a)}`, 'MySQL and PostgreSQL print that type differently');
        return;
      case 'if': {
        if (args.length !== 3) refuse(fname, 'it takes three arguments');
        // MySQL reads the condition as a number: a comparison stays as it is, anything else is "not 0".
        const cond = isBoolean(args[0]!, ctx) ? args[0]! : mark(op('<>', args[0]!, { A_Const: { ival: { ival: 0 } } }));
        return replace({ CaseExpr: { args: [{ CaseWhen: { expr: cond, result: args[1] } }], defresult: args[2] } });
      }
      case 'now':
      case 'current_timestamp':
      case 'localtimestamp':
      case 'localtime':
        if (args.length > 0) refuse(fname, 'a fractional-seconds precision');
        return replace(now(mark));
      case 'curdate':
      case 'current_date':
        return replace({ SQLValueFunction: { op: 'SVFOP_CURRENT_DATE', typmod: -1 } });
      case 'concat': {
        // MySQL's CONCAT is NULL when any argument is; PostgreSQL's concat() skips NULLs, its || does not.
        if (args.length === 0) refuse(fname, 'no arguments');
        for (const a of args) if (!printsAlike(a, ctx)) refuse(`${fname} of ${describe(a)}`, 'MySQL and PostgreSQL print that type differently');
        const texts = args.map((a) => mark(cast(a, 'text')));
        return replace(texts.slice(1).reduce((acc, t) => mark(op('||', acc, t)), texts[0]!));
      }
      case 'length':
      case 'octet_length':
        // MySQL's LENGTH counts bytes.
        return replace(call(['octet_length'], args));
      case 'substring':
      case 'substr':
      case 'mid':
        return replace(substring(args, fname, refuse));
      case 'lcase':
        return replace(call(['lower'], args));
      case 'ucase':
        return replace(call(['upper'], args));
      case 'date_format':
        return replace(call(['to_char'], [args[0]!, textConst(toCharPattern(args, fname, refuse))]));
      case 'year':
      case 'month':
      case 'day':
      case 'dayofmonth':
      case 'hour':
      case 'minute':
        if (args.length !== 1) refuse(fname, 'it takes one argument');
        return replace(call(['pg_catalog', 'extract'], [textConst(name === 'dayofmonth' ? 'day' : name), args[0]!], true));
      default:
        if (SAME.mysql.has(name)) return;
    }
  } else {
    switch (name) {
      case 'ifnull':
        if (args.length !== 2) refuse(fname, 'it takes two arguments');
        return replace({ CoalesceExpr: { args } });
      case 'substr':
      case 'substring':
        if (f.funcformat === 'COERCE_SQL_SYNTAX') refuse(fname, 'SQLite has no SUBSTRING … FROM form');
        return replace(substring(args, fname, refuse));
      case 'min':
      case 'max':
        // One argument: the aggregate. Several: SQLite's scalar, NULL when any argument is (PostgreSQL's GREATEST is not).
        if (args.length === 1 || f.agg_star) return;
        refuse(`${fname} with ${args.length} arguments`, 'SQLite returns NULL when any argument is NULL, PostgreSQL GREATEST/LEAST ignore NULLs');
        return;
      default:
        if (SAME.sqlite.has(name)) return;
    }
  }
  refuse(fname, 'it is not among the functions Sensei translates (see the README, Verify)');
}

/** date_trunc('second', LOCALTIMESTAMP): MySQL's NOW() in a UTC session (both sides replay in UTC), whole seconds. */
function now(mark: (n: Node) => Node): Node {
  return call(['date_trunc'], [textConst('second'), mark({ SQLValueFunction: { op: 'SVFOP_LOCALTIMESTAMP', typmod: -1 } })]);
}

/** SUBSTRING(s, pos[, len]) with a literal position ≥ 1 (and length ≥ 0): PostgreSQL's SUBSTRING(s FROM pos FOR len). */
function substring(args: Node[], fname: string, refuse: (what: string, why: string) => never): Node {
  if (args.length < 2 || args.length > 3) refuse(fname, 'it takes two or three arguments');
  const pos = intLiteral(args[1]);
  const len = args.length === 3 ? intLiteral(args[2]) : 0;
  if (pos === null || pos < 1 || len === null) refuse(fname, 'only a literal position from 1 and a literal length are translated: a position of 0 or from the end means something else in PostgreSQL');
  return call(['pg_catalog', 'substring'], args, true);
}

function toCharPattern(args: Node[], fname: string, refuse: (what: string, why: string) => never): string {
  const fmt = (args[1]?.A_Const as { sval?: { sval?: string } } | undefined)?.sval?.sval;
  if (args.length !== 2 || fmt === undefined) refuse(fname, 'only a literal format is translated');
  let out = '';
  let literal = '';
  const flush = (): void => {
    if (literal) out += `"${literal.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
    literal = '';
  };
  for (let i = 0; i < fmt!.length; i++) {
    const ch = fmt![i]!;
    if (ch !== '%') {
      literal += ch;
      continue;
    }
    const spec = fmt![++i];
    if (spec === '%') {
      literal += '%';
      continue;
    }
    const pattern = spec === undefined ? undefined : DATE_FORMAT[spec];
    if (!pattern) refuse(`${fname} with %${spec ?? ''}`, `the specifiers translated are ${Object.keys(DATE_FORMAT).map((k) => `%${k}`).join(' ')} and %%`);
    flush();
    out += pattern;
  }
  flush();
  return out;
}

/**
 * Whether an expression is boolean as written (a comparison, AND/OR/NOT, IS [NOT] NULL, IN, LIKE, BETWEEN, EXISTS);
 * a column the target holds as boolean (a MySQL TINYINT(1) of 0/1) counts too.
 */
function isBoolean(n: Node, ctx: TranslateContext): boolean {
  if (n.ColumnRef) return /^bool(ean)?$/i.test(ctx.columnType(n) ?? '');
  if (n.BoolExpr || n.NullTest || n.BooleanTest) return true;
  if (n.SubLink) return (n.SubLink as { subLinkType?: string }).subLinkType === 'EXISTS_SUBLINK' || (n.SubLink as { subLinkType?: string }).subLinkType === 'ANY_SUBLINK';
  if (n.A_Expr) {
    const e = n.A_Expr as { kind: string; name?: Node[] };
    if (e.kind !== 'AEXPR_OP') return e.kind !== 'AEXPR_NULLIF';
    return ['=', '<>', '!=', '<', '>', '<=', '>='].includes(str(e.name?.[0]) ?? '');
  }
  return false;
}

/** A string literal, a column of a textual target type, text functions, or a `||` of those. */
function isText(n: Node, ctx: TranslateContext): boolean {
  if (n.A_Const) return (n.A_Const as { sval?: unknown }).sval !== undefined;
  if (n.ColumnRef) return TEXTUAL_TYPE.test(ctx.columnType(n) ?? '');
  if (n.A_Expr) {
    const e = n.A_Expr as { kind: string; name?: Node[]; lexpr?: Node; rexpr?: Node };
    return e.kind === 'AEXPR_OP' && str(e.name?.[0]) === '||' && !!e.lexpr && !!e.rexpr && isText(e.lexpr, ctx) && isText(e.rexpr, ctx);
  }
  if (n.FuncCall) {
    const f = n.FuncCall as { funcname: Node[]; args?: Node[] };
    const name = str(f.funcname.at(-1))?.toLowerCase() ?? '';
    if (name === 'ifnull') return (f.args ?? []).every((a) => isText(a, ctx));
    return ['lower', 'upper', 'ltrim', 'rtrim', 'btrim', 'replace', 'substr', 'substring'].includes(name) && !!f.args?.[0] && isText(f.args[0], ctx);
  }
  if (n.CoalesceExpr) return ((n.CoalesceExpr as { args: Node[] }).args ?? []).every((a) => isText(a, ctx));
  return false;
}

/** Whether MySQL's and PostgreSQL's text forms of the value agree: text, numbers, literals, dates and datetimes. */
function printsAlike(n: Node, ctx: TranslateContext): boolean {
  // Booleans print 1/0 in MySQL and true/false in PostgreSQL.
  if (n.A_Const) return (n.A_Const as { boolval?: unknown }).boolval === undefined;
  if (n.ColumnRef) return PRINTS_ALIKE.test(ctx.columnType(n) ?? '');
  return isText(n, ctx);
}
