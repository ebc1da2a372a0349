// The SQL allow-list: parses an expression that did not come from Sensei's own code with the real PostgreSQL parser
// (libpg-query) and accepts it only if every node is on the list. Used for LLM, stakeholder and pattern-library SQL.
import { loadModule, parseSync, scanSync } from 'libpg-query';
import { z } from 'zod';

export const ExpressionCheckContext = z.object({
  /** Columns the expression may reference (the source row's columns, or the target table's for rules). */
  allowedColumns: z.array(z.string()),
  /** Row aliases a column reference may be qualified with. Default `['src']`. Unqualified references are allowed too. */
  qualifiers: z.array(z.string()).default(['src']),
  /** Type names beyond the built-in list that casts may use (e.g. enum types created in the target schema). */
  extraTypes: z.array(z.string()).default([]),
});
export type ExpressionCheckContext = z.input<typeof ExpressionCheckContext>;

export type ExpressionCheck =
  | { ok: true; expression: string; columns: string[] }
  | { ok: false; expression: string; reason: string };

/** Functions an expression may call: pure, deterministic, no I/O, no catalog access, no sleeping. */
export const ALLOWED_FUNCTIONS: ReadonlySet<string> = new Set([
  // text
  'upper', 'lower', 'initcap', 'btrim', 'ltrim', 'rtrim', 'trim', 'substring', 'substr', 'left', 'right', 'length',
  'char_length', 'character_length', 'octet_length', 'replace', 'translate', 'lpad', 'rpad', 'concat', 'concat_ws',
  'split_part', 'position', 'strpos', 'starts_with', 'regexp_replace', 'regexp_match', 'regexp_like', 'reverse',
  'repeat', 'md5', 'normalize', 'overlay', 'unistr',
  // numbers
  'abs', 'round', 'trunc', 'floor', 'ceil', 'ceiling', 'mod', 'power', 'sign', 'sqrt', 'div', 'scale',
  // dates and times
  'to_date', 'to_timestamp', 'to_char', 'to_number', 'date_trunc', 'date_part', 'extract', 'make_date', 'make_time',
  'make_timestamp', 'make_timestamptz', 'make_interval', 'timezone', 'justify_days', 'justify_hours', 'justify_interval',
  'isfinite',
  // bytes and encodings
  'convert_from', 'convert_to', 'encode', 'decode', 'get_byte', 'set_byte',
  // json
  'to_json', 'to_jsonb', 'json_build_object', 'jsonb_build_object', 'json_build_array', 'jsonb_build_array',
  'jsonb_extract_path_text', 'json_extract_path_text', 'jsonb_typeof', 'json_typeof',
  // formatting and misc
  'format', 'nullif', 'coalesce', 'greatest', 'least', 'num_nulls', 'num_nonnulls', 'array_to_string',
  'string_to_array', 'array_length', 'cardinality', 'bool',
]);

/** Built-in type names a cast may use (last name component, as the parser reports it). */
const ALLOWED_TYPES: ReadonlySet<string> = new Set([
  'int2', 'int4', 'int8', 'smallint', 'integer', 'int', 'bigint', 'numeric', 'decimal', 'float4', 'float8', 'real',
  'double precision', 'bool', 'boolean', 'text', 'varchar', 'bpchar', 'char', 'character', 'character varying',
  'name', 'date', 'time', 'timetz', 'timestamp', 'timestamptz', 'interval', 'bytea', 'json', 'jsonb', 'uuid', 'inet',
  'cidr', 'macaddr', 'bit', 'varbit', 'citext', 'money', 'xml',
]);

const ALLOWED_OPERATORS: ReadonlySet<string> = new Set([
  // The parser names the BETWEEN forms by keyword; their bounds are checked like any operand.
  'BETWEEN', 'NOT BETWEEN',
  '=', '<>', '!=', '<', '>', '<=', '>=', '+', '-', '*', '/', '%', '^', '||', '~', '~*', '!~', '!~*', '~~', '~~*',
  '!~~', '!~~*', '->', '->>', '#>', '#>>', '@>', '<@', '?', '&', '|', '#', '<<', '>>', '@',
]);

/** A_Expr kinds the list accepts: plain operators, IN, LIKE/ILIKE/SIMILAR, BETWEEN, NULLIF, IS [NOT] DISTINCT FROM. */
const ALLOWED_AEXPR_KINDS: ReadonlySet<string> = new Set([
  'AEXPR_OP', 'AEXPR_IN', 'AEXPR_LIKE', 'AEXPR_ILIKE', 'AEXPR_SIMILAR', 'AEXPR_BETWEEN', 'AEXPR_NOT_BETWEEN',
  'AEXPR_NULLIF', 'AEXPR_DISTINCT', 'AEXPR_NOT_DISTINCT',
]);

/** Node kinds that are only containers; their children are checked. */
const STRUCTURAL_NODES: ReadonlySet<string> = new Set([
  'BoolExpr', 'NullTest', 'BooleanTest', 'CaseExpr', 'CaseWhen', 'CoalesceExpr', 'MinMaxExpr', 'List',
  'CollateClause', 'A_ArrayExpr',
]);

/** `CURRENT_DATE` and friends: stable within a statement, no I/O; `CURRENT_USER` etc. reveal who runs the load. */
const ALLOWED_SQL_VALUE_FUNCTIONS: ReadonlySet<string> = new Set(['SVFOP_CURRENT_DATE']);
/**
 * In a whole replayed query also LOCALTIMESTAMP (what a MySQL NOW() becomes; both sides replay in UTC). Not in
 * transformations: a loaded value must not depend on when it was loaded.
 */
const ALLOWED_QUERY_VALUE_FUNCTIONS: ReadonlySet<string> = new Set([...ALLOWED_SQL_VALUE_FUNCTIONS, 'SVFOP_LOCALTIMESTAMP']);

const MAX_EXPRESSION_LENGTH = 4000;

class Rejected extends Error {}

let ready: Promise<void> | undefined;

/** Loads the parser (WebAssembly) once per process. */
export function loadExpressionParser(): Promise<void> {
  ready ??= loadModule();
  return ready;
}

/** Checks one expression; never throws for bad input: the answer says why it was rejected. */
export async function checkExpression(expression: string, context: ExpressionCheckContext): Promise<ExpressionCheck> {
  await loadExpressionParser();
  return checkExpressionSync(expression, context);
}

/** As {@link checkExpression}, once {@link loadExpressionParser} has resolved. */
export function checkExpressionSync(expression: string, context: ExpressionCheckContext): ExpressionCheck {
  const ctx = ExpressionCheckContext.parse(context);
  try {
    if (expression.trim() === '') throw new Rejected('the expression is empty');
    if (expression.length > MAX_EXPRESSION_LENGTH) throw new Rejected(`the expression is longer than ${MAX_EXPRESSION_LENGTH} characters`);
    if (expression.includes('\0')) throw new Rejected('the expression contains a NUL byte');
    checkTokens(expression);
    let ast: unknown;
    try {
      ast = parseSync(`SELECT (${expression})`);
    } catch (e) {
      throw new Rejected(`it does not parse as one PostgreSQL expression: ${e instanceof Error ? e.message : String(e)}`);
    }
    const stmts = (ast as { stmts?: { stmt: Record<string, unknown> }[] }).stmts ?? [];
    if (stmts.length !== 1) throw new Rejected('it holds more than one statement');
    const select = stmts[0]!.stmt.SelectStmt as Record<string, unknown> | undefined;
    if (!select) throw new Rejected('it is not an expression');
    const extraKeys = Object.keys(select).filter((k) => !['targetList', 'limitOption', 'op'].includes(k));
    if (extraKeys.length > 0) throw new Rejected(`it is not a plain expression (it has ${extraKeys.join(', ')})`);
    const targets = select.targetList as { ResTarget: { val: unknown; name?: string } }[];
    if (targets.length !== 1 || targets[0]!.ResTarget.name) throw new Rejected('it is not exactly one expression');
    const columns = new Set<string>();
    const allowedColumns = new Set(ctx.allowedColumns);
    const qualifiers = new Set(ctx.qualifiers);
    const types = new Set([...ALLOWED_TYPES, ...ctx.extraTypes.map((t) => t.toLowerCase())]);
    walk(targets[0]!.ResTarget.val, { columns, allowedColumns, qualifiers, types });
    return { ok: true, expression, columns: [...columns] };
  } catch (e) {
    if (e instanceof Rejected) return { ok: false, expression, reason: e.message };
    throw e;
  }
}

function checkTokens(expression: string): void {
  let tokens: { text: string; tokenName: string }[];
  try {
    tokens = scanSync(expression).tokens;
  } catch (e) {
    throw new Rejected(`it cannot be tokenised: ${e instanceof Error ? e.message : String(e)}`);
  }
  for (const t of tokens) {
    if (t.tokenName === 'SQL_COMMENT' || t.tokenName === 'C_COMMENT') throw new Rejected(`comments are not allowed (found ${t.text.slice(0, 20)})`);
    if (t.text === ';') throw new Rejected('semicolons are not allowed: an expression is not a statement');
    if (t.tokenName === 'SCONST' && t.text.startsWith('$')) throw new Rejected('dollar-quoted strings are not allowed');
    if (t.tokenName === 'PARAM') throw new Rejected(`parameters (${t.text}) are not allowed`);
  }
}

interface WalkState {
  columns: Set<string>;
  allowedColumns: Set<string>;
  qualifiers: Set<string>;
  types: Set<string>;
}

function strings(list: unknown): string[] {
  return ((list as { String?: { sval: string } }[] | undefined) ?? []).map((n) => n.String?.sval ?? '*');
}

/** Walks a parse tree: `{ NodeKind: { field: … } }` wrappers, arrays of them, and node bodies' fields. */
function walk(node: unknown, st: WalkState): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const n of node) walk(n, st);
    return;
  }
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (typeof value !== 'object' || value === null) continue;
    if (/^[A-Z]/.test(key)) checkNode(key, value as Record<string, unknown>, st);
    else walk(value, st);
  }
}

function checkNode(kind: string, body: Record<string, unknown>, st: WalkState): void {
  switch (kind) {
    case 'ColumnRef': {
      const fields = (body.fields as Record<string, unknown>[]).map((f) => ('A_Star' in f ? '*' : (f.String as { sval: string }).sval));
      if (fields.includes('*')) throw new Rejected('`*` is not allowed: name the column');
      const [first, second] = fields;
      if (fields.length === 1) return noteColumn(first!, st);
      if (fields.length === 2 && st.qualifiers.has(first!)) return noteColumn(second!, st);
      throw new Rejected(`the reference ${fields.join('.')} points outside the row being transformed (other tables are not allowed)`);
    }
    case 'FuncCall': {
      const names = strings(body.funcname);
      const name = names[names.length - 1]!.toLowerCase();
      if (names.length > 2 || (names.length === 2 && names[0] !== 'pg_catalog')) throw new Rejected(`the function ${names.join('.')} is not on the allow-list`);
      if (!ALLOWED_FUNCTIONS.has(name)) throw new Rejected(`the function ${name}() is not on the allow-list`);
      if (body.over || body.agg_star || body.agg_filter || body.agg_order || body.agg_distinct || body.agg_within_group) {
        throw new Rejected(`${name}() may not be used as an aggregate or window function`);
      }
      return walk(body.args, st);
    }
    case 'A_Expr': {
      if (!ALLOWED_AEXPR_KINDS.has(String(body.kind))) throw new Rejected(`the operator form ${String(body.kind)} is not allowed`);
      for (const op of strings(body.name)) if (!ALLOWED_OPERATORS.has(op)) throw new Rejected(`the operator ${op} is not on the allow-list`);
      walk(body.lexpr, st);
      return walk(body.rexpr, st);
    }
    case 'TypeCast': {
      walk(body.arg, st);
      return checkType(body.typeName as Record<string, unknown>, st);
    }
    case 'SQLValueFunction':
      if (!ALLOWED_SQL_VALUE_FUNCTIONS.has(String(body.op))) throw new Rejected(`${String(body.op).replace('SVFOP_', '').toLowerCase()} is not allowed`);
      return;
    case 'SubLink':
      throw new Rejected('sub-queries are not allowed');
    case 'A_Const':
    case 'String':
    case 'Integer':
    case 'Float':
    case 'Boolean':
    case 'BitString':
      return;
    default:
      if (STRUCTURAL_NODES.has(kind)) return walk(body, st);
      throw new Rejected(`${kind} is not allowed in an expression`);
  }
}

function noteColumn(name: string, st: WalkState): void {
  if (!st.allowedColumns.has(name)) throw new Rejected(`the column "${name}" is not a column of this row (known: ${[...st.allowedColumns].join(', ')})`);
  st.columns.add(name);
}

function checkType(typeName: Record<string, unknown>, st: WalkState): void {
  const names = strings(typeName.names);
  const last = names[names.length - 1]!.toLowerCase();
  if (names.length > 2 || (names.length === 2 && names[0] !== 'pg_catalog')) throw new Rejected(`the type ${names.join('.')} is not allowed`);
  if (!st.types.has(last)) throw new Rejected(`casting to ${last} is not allowed`);
  walk(typeName.typmods, st);
}

/** Aggregates a replayed query may use besides the allowed scalar functions. */
const ALLOWED_AGGREGATES: ReadonlySet<string> = new Set(['count', 'sum', 'avg', 'min', 'max', 'bool_and', 'bool_or', 'string_agg', 'array_agg']);

export type QueryCheck = { ok: true; query: string; tables: string[] } | { ok: false; query: string; reason: string };

/**
 * The allow-list for a whole read query (behavioural verification replays configured queries on the target): exactly
 * one SELECT, no INTO or row locks, no functions in FROM, every table one of `allowedTables` (any schema
 * qualifier is refused), every function an allowed scalar function or a plain aggregate. Runs in a read-only
 * transaction besides. Never throws for bad input.
 */
export async function checkSelectQuery(query: string, allowedTables: string[]): Promise<QueryCheck> {
  await loadExpressionParser();
  try {
    if (query.length > 20_000) throw new Rejected('the query is longer than 20,000 characters');
    for (const t of scanSync(query).tokens) {
      if (t.tokenName === 'SQL_COMMENT' || t.tokenName === 'C_COMMENT') throw new Rejected('comments are not allowed');
      if (t.tokenName === 'PARAM') throw new Rejected(`parameters (${t.text}) are not allowed`);
    }
    let ast: { stmts?: { stmt: Record<string, unknown> }[] };
    try {
      ast = parseSync(query) as typeof ast;
    } catch (e) {
      throw new Rejected(`it does not parse as PostgreSQL: ${e instanceof Error ? e.message : String(e)}`);
    }
    const stmts = ast.stmts ?? [];
    if (stmts.length !== 1 || !stmts[0]!.stmt.SelectStmt) throw new Rejected('it is not exactly one SELECT statement');
    // Names a WITH clause defines are not tables.
    const ctes = [...JSON.stringify(stmts[0]).matchAll(/"ctename":"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    const allowed = new Set([...allowedTables, ...ctes]);
    const tables = new Set<string>();
    const visit = (node: unknown): void => {
      if (node === null || typeof node !== 'object') return;
      if (Array.isArray(node)) return node.forEach(visit);
      for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
        if (key === 'intoClause') throw new Rejected('SELECT … INTO is not allowed');
        if (key === 'lockingClause') throw new Rejected('row locks (FOR UPDATE/SHARE) are not allowed');
        if (key === 'RangeFunction') throw new Rejected('functions in FROM are not allowed');
        if (key === 'RangeVar') {
          const rv = value as { relname: string; schemaname?: string };
          if (rv.schemaname) throw new Rejected(`schema-qualified table ${rv.schemaname}.${rv.relname} is not allowed: name the target table alone`);
          if (!allowed.has(rv.relname)) throw new Rejected(`the table ${rv.relname} is not one of the migrated tables`);
          tables.add(rv.relname);
        }
        if (key === 'FuncCall') {
          const names = strings((value as { funcname: unknown }).funcname);
          const name = names[names.length - 1]!.toLowerCase();
          if (names.length > 2 || (names.length === 2 && names[0] !== 'pg_catalog')) throw new Rejected(`the function ${names.join('.')} is not on the allow-list`);
          if (!ALLOWED_FUNCTIONS.has(name) && !ALLOWED_AGGREGATES.has(name)) throw new Rejected(`the function ${name}() is not on the allow-list`);
        }
        if (key === 'SQLValueFunction' && !ALLOWED_QUERY_VALUE_FUNCTIONS.has(String((value as { op: unknown }).op))) {
          throw new Rejected(`${String((value as { op: unknown }).op).replace('SVFOP_', '').toLowerCase()} is not allowed`);
        }
        visit(value);
      }
    };
    visit(stmts[0]!.stmt);
    return { ok: true, query, tables: [...tables] };
  } catch (e) {
    if (e instanceof Rejected) return { ok: false, query, reason: e.message };
    throw e;
  }
}
