// Builders and readers for libpg-query's JSON AST (`{ Kind: { …fields } }`), shared by the query translations.

/** A libpg-query node, `{ Kind: { …fields } }`, or the fields of one. */
export type Node = Record<string, unknown>;

/** Target types whose values are text (CONCAT and `||` operands, case folding). */
export const TEXTUAL_TYPE = /^(text|citext|name|bpchar|(character varying|varchar|character|char)(\(\d+\))?)$/i;

export const str = (n: unknown): string | undefined => (n as { String?: { sval?: string } } | undefined)?.String?.sval;
export const strNode = (s: string): Node => ({ String: { sval: s } });
export const textConst = (s: string): Node => ({ A_Const: { sval: { sval: s } } });
export const intConst = (i: number): Node => ({ A_Const: { ival: i === 0 ? {} : { ival: i } } });
/** A numeric literal too large for an int4 constant (the parser keeps those as text in `fval`). */
export const bigConst = (digits: string): Node => ({ A_Const: { fval: { fval: digits } } });
export const typeName = (name: string, mods: number[] = []): Node => ({
  names: [strNode('pg_catalog'), strNode(name)],
  ...(mods.length > 0 ? { typmods: mods.map((m) => intConst(m)) } : {}),
  typemod: -1,
});
export const cast = (arg: Node, type: string, mods: number[] = []): Node => ({ TypeCast: { arg, typeName: typeName(type, mods) } });
export const call = (name: string[], args: Node[], sqlSyntax = false): Node => ({
  FuncCall: { funcname: name.map(strNode), args, funcformat: sqlSyntax ? 'COERCE_SQL_SYNTAX' : 'COERCE_EXPLICIT_CALL' },
});
export const op = (name: string, l: Node | undefined, r: Node): Node => ({ A_Expr: { kind: 'AEXPR_OP', name: [strNode(name)], ...(l ? { lexpr: l } : {}), rexpr: r } });
/** `NULLIF(n, 0)`: MySQL divides by zero into NULL, PostgreSQL raises an error. */
export const nullIfZero = (n: Node): Node => ({ A_Expr: { kind: 'AEXPR_NULLIF', name: [strNode('=')], lexpr: n, rexpr: intConst(0) } });

/** A non-negative integer literal's value, else null. */
export function intLiteral(n: Node | undefined): number | null {
  const c = n?.A_Const as { ival?: { ival?: number }; isnull?: boolean } | undefined;
  if (!c || c.isnull || !c.ival) return null;
  return c.ival.ival ?? 0;
}

/** The (lower-case) name of a function call's last name part, else undefined. */
export function funcName(n: Node): string | undefined {
  const f = n.FuncCall as { funcname?: Node[] } | undefined;
  return f ? str(f.funcname?.at(-1))?.toLowerCase() : undefined;
}

/** The operator name of a plain `AEXPR_OP` expression, else undefined. */
export function operatorOf(n: Node): string | undefined {
  const e = n.A_Expr as { kind?: string; name?: Node[] } | undefined;
  return e?.kind === 'AEXPR_OP' ? str(e.name?.[0]) : undefined;
}

/** How a finding names an expression: a column by its (source) name, else its kind. */
export function describe(n: Node): string {
  if (n.ColumnRef) return `the column ${((n.ColumnRef as { fields: Node[] }).fields.map((f) => str(f) ?? '*')).join('.')}`;
  if (n.A_Const) return 'a literal';
  if (n.FuncCall) return `the function ${funcName(n)?.toUpperCase()}`;
  if (operatorOf(n) !== undefined) return `the operator ${operatorOf(n)}`;
  if (n.TypeCast) return `a CAST`;
  return `a ${Object.keys(n)[0]} expression`;
}
