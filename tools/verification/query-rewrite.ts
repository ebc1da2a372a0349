// Behavioural replay: a source query rewritten for the target schema through a real parser. PostgreSQL sources are
// parsed by libpg-query; MySQL/MariaDB and SQLite sources by node-sql-parser in their own dialect and printed as
// PostgreSQL first. Table and column names are then renamed in the PostgreSQL AST through the approved mapping, scope
// by scope (aliases, qualified names, joins, subqueries, CTEs, ORDER BY/GROUP BY), source-dialect functions are
// translated where PostgreSQL has the exact same thing (dialect-functions.ts), and the AST is deparsed.
import { loadModule, parseSync } from 'libpg-query';
import { deparse } from 'pgsql-deparser';
import type { Catalog } from '../../core/catalog.js';
import type { Plan, TableMapping } from '../../core/plan.js';
import { checkClauses, CollationDiffers, type CollationUse, type SourceColumn } from './collation-fold.js';
import { newTranslateState, translateDialectNode, UntranslatableFunction, type ForeignDialect } from './dialect-functions.js';

export type QueryRewrite =
  | { ok: true; sql: string; collationUses: CollationUse[] }
  /** `collation`: the source table and column whose case-insensitive collation the target cannot reproduce here. */
  | { ok: false; reason: string; collation?: { table: string; column: string } };

export interface RewriteOptions {
  /** The source catalog: column collations (MySQL/MariaDB `*_ci`). Default absent: every comparison is kept as written. */
  sourceCatalog?: Catalog | null;
  /** The result is compared in order (`queries[].ordered`): the top-level ORDER BY reaches it. Default false. */
  ordered?: boolean;
}

/** Source dialects the rewrite reads (`SourceConnector.dialect`, or the scheme of the source URL). */
export type SourceDialect = 'postgres' | 'mysql' | 'sqlite';

export function sourceDialectOf(name: string | undefined): SourceDialect | null {
  switch ((name ?? '').toLowerCase()) {
    case 'postgres':
    case 'postgresql':
      return 'postgres';
    case 'mysql':
    case 'mariadb':
      return 'mysql';
    case 'sqlite':
      return 'sqlite';
    default:
      return null;
  }
}

class Unrewritable extends Error {}

/**
 * The query for the target schema, or why it cannot be rewritten (a name the mapping does not know, an ambiguous
 * column, syntax the parser for the source dialect does not read). Never guesses: what it cannot resolve is refused.
 */
export async function rewriteQuery(sql: string, dialect: SourceDialect, plan: Plan, options: RewriteOptions = {}): Promise<QueryRewrite> {
  await loadModule();
  try {
    const pgText = dialect === 'postgres' ? sql : await toPostgres(sql, dialect);
    let tree: { stmts?: Array<{ stmt: Node }> };
    try {
      tree = parseSync(pgText) as typeof tree;
    } catch (e) {
      throw new Unrewritable(`it does not parse as PostgreSQL: ${(e as Error).message}`);
    }
    const stmts = tree.stmts ?? [];
    const select = stmts.length === 1 ? (stmts[0]!.stmt as { SelectStmt?: Node }).SelectStmt : undefined;
    if (!select) throw new Unrewritable('it is not exactly one SELECT statement');
    const renamer = new Renamer(plan, dialect === 'postgres' ? null : dialect, options);
    renamer.select(select, []);
    return { ok: true, sql: await deparse(tree as never), collationUses: renamer.collationUses };
  } catch (e) {
    if (e instanceof CollationDiffers) return { ok: false, reason: e.message, collation: { table: e.table, column: e.column } };
    if (e instanceof Unrewritable || e instanceof UntranslatableFunction) return { ok: false, reason: e.message };
    throw e;
  }
}

type NodeSqlParser = { astify(sql: string, o: { database: string }): unknown; sqlify(ast: unknown, o: { database: string }): string };
let nodeSqlParser: NodeSqlParser | undefined;

/** The MySQL/SQLite query printed as PostgreSQL (identifier quoting, LIMIT forms) by node-sql-parser. */
async function toPostgres(sql: string, dialect: 'mysql' | 'sqlite'): Promise<string> {
  if (!nodeSqlParser) {
    // A CommonJS module: its classes are on the default export.
    const mod = (await import('node-sql-parser')) as unknown as { default: { Parser: new () => NodeSqlParser } };
    const { Parser } = mod.default;
    nodeSqlParser = new Parser();
  }
  let ast: unknown;
  try {
    ast = nodeSqlParser.astify(sql, { database: dialect === 'mysql' ? 'MariaDB' : 'Sqlite' });
  } catch (e) {
    throw new Unrewritable(`the ${dialect} parser cannot read it: ${firstLine((e as Error).message)}`);
  }
  if (Array.isArray(ast)) {
    if (ast.length !== 1) throw new Unrewritable('it is not exactly one SELECT statement');
    ast = ast[0];
  }
  if ((ast as { type?: string }).type !== 'select') throw new Unrewritable('it is not exactly one SELECT statement');
  fixDoubleQuotes(ast, dialect);
  if (dialect === 'mysql') mysqlFormsPostgresReads(ast);
  try {
    return nodeSqlParser.sqlify(ast, { database: 'PostgresQL' });
  } catch (e) {
    throw new Unrewritable(`it cannot be printed as PostgreSQL: ${firstLine((e as Error).message)}`);
  }
}

/**
 * `"x"` is a string in MySQL (without ANSI_QUOTES) and a name in SQLite; node-sql-parser keeps it as a double-quoted
 * string that it would print as a PostgreSQL name. Made explicit here, in place.
 */
function fixDoubleQuotes(node: unknown, dialect: 'mysql' | 'sqlite'): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) return node.forEach((n) => fixDoubleQuotes(n, dialect));
  const n = node as Record<string, unknown>;
  if (n.type === 'double_quote_string') {
    if (dialect === 'mysql') n.type = 'single_quote_string';
    else Object.assign(n, { type: 'column_ref', table: null, column: n.value, value: undefined });
    return;
  }
  for (const v of Object.values(n)) fixDoubleQuotes(v, dialect);
}

/**
 * MySQL forms node-sql-parser would print as PostgreSQL cannot read them, rewritten in place to forms it reads and
 * dialect-functions.ts then translates: `a DIV b` → `div(a, b)`, `a MOD b` → `mod(a, b)`, `CONVERT(x, type)` →
 * `CAST(x AS type)`, `SIGNED INTEGER`/`UNSIGNED INTEGER` → the one-word type names `signed`/`unsigned`.
 */
function mysqlFormsPostgresReads(node: unknown): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) return node.forEach(mysqlFormsPostgresReads);
  const n = node as Record<string, unknown>;
  for (const v of Object.values(n)) mysqlFormsPostgresReads(v);
  const fn = (name: string, args: unknown[]): Record<string, unknown> => ({ type: 'function', name: { name: [{ type: 'origin', value: name }] }, args: { type: 'expr_list', value: args } });
  if (n.type === 'binary_expr' && (n.operator === 'DIV' || n.operator === 'MOD')) {
    const next = fn(String(n.operator).toLowerCase(), [n.left, n.right]);
    for (const k of Object.keys(n)) delete n[k];
    Object.assign(n, next);
  } else if (n.type === 'function') {
    const name = (n.name as { name?: Array<{ value?: string }> } | undefined)?.name?.[0]?.value;
    const args = (n.args as { value?: Array<Record<string, unknown>> } | undefined)?.value;
    if (name?.toLowerCase() === 'convert' && args?.length === 2 && args[1]!.type === 'datatype') {
      const { type: _datatype, ...target } = args[1]!;
      const next = { type: 'cast', keyword: 'cast', expr: args[0], symbol: 'as', target: [oneWordType(target)] };
      for (const k of Object.keys(n)) delete n[k];
      Object.assign(n, next);
    }
  } else if (n.type === 'cast' && Array.isArray(n.target)) {
    n.target = n.target.map((t: Record<string, unknown>) => oneWordType(t));
  }
}

function oneWordType(t: Record<string, unknown>): Record<string, unknown> {
  const m = /^(UN)?SIGNED( INT(EGER)?)?$/i.exec(String(t.dataType ?? ''));
  return m ? { ...t, dataType: m[1] ? 'UNSIGNED' : 'SIGNED' } : t;
}

const firstLine = (s: string): string => s.split('\n')[0]!.slice(0, 200);

// libpg-query's JSON AST, walked generically: every node is `{ Kind: { …fields } }`.
type Node = Record<string, unknown>;

/** One FROM item visible in a scope: a mapped source table, or a CTE/subquery/unmapped relation (columns unknown). */
interface Entry {
  /** The name a qualifier uses: the alias, else the relation name as written. */
  visible: string;
  /** After the rewrite (the target table's name when the table was renamed and had no alias). */
  renamedTo: string;
  mapping: TableMapping | null;
  /** Output names when known (CTE with column list, subquery with aliases); null when unknown. */
  columns: Set<string> | null;
  /** A subquery's or CTE's output columns that pass a mapped column through unchanged, by output name. */
  sources?: Map<string, SourceColumn>;
}

interface Scope {
  entries: Entry[];
  /** CTEs defined at this level (they shadow tables), with their column names when known. */
  ctes: Map<string, Set<string> | null>;
  /** The output columns of those CTEs that pass a mapped column through (see Entry.sources). */
  cteSources?: Map<string, Map<string, SourceColumn>>;
  /** Output column names of the SELECT (ORDER BY/GROUP BY may name them). */
  outputs: Set<string>;
  /** The FROM clause has a USING or NATURAL join (a bare `*` cannot be expanded column by column then). */
  hasUsingJoin: boolean;
}

type NameOrder = 'input' | 'input-then-output' | 'output-then-input';

const str = (n: unknown): string | undefined => (n as { String?: { sval?: string } } | undefined)?.String?.sval;
const strNode = (s: string): Node => ({ String: { sval: s } });

/** Finds a name exactly, else case-insensitively when that is unique (MySQL and SQLite fold names differently). */
function findName<T>(items: readonly T[], name: string, key: (t: T) => string): T | undefined {
  const exact = items.filter((t) => key(t) === name);
  if (exact.length > 0) return exact[0];
  const folded = items.filter((t) => key(t).toLowerCase() === name.toLowerCase());
  return folded.length === 1 ? folded[0] : undefined;
}

class Renamer {
  /** What the dialect translation remembers between nodes. */
  private readonly translation = newTranslateState();

  /** Where the query depends on a case-insensitive source collation (MySQL/MariaDB sources). */
  readonly collationUses: CollationUse[] = [];

  /** `dialect`: the source's, when its functions need translating (null for PostgreSQL). */
  constructor(
    private readonly plan: Plan,
    private readonly dialect: ForeignDialect | null,
    private readonly options: RewriteOptions = {},
  ) {}

  /** The mapped column a (not yet renamed) column reference names, with its source collation; null when unknown. */
  private sourceColumn(ref: Node, chain: Scope[]): SourceColumn | null {
    const names = ((ref.ColumnRef as { fields: Node[] }).fields ?? []).map((f) => str(f));
    const column = names.at(-1);
    if (column === undefined) return null;
    for (const scope of chain) {
      const entries = names.length === 1 ? scope.entries : scope.entries.filter((e) => e.visible === names.at(-2));
      for (const e of entries) {
        const passed = e.sources?.get(column);
        if (passed) return passed;
        const m = e.mapping ? findName(e.mapping.columns, column, (c) => c.sourceColumn) : undefined;
        if (!m) continue;
        const def = this.options.sourceCatalog?.tables.find((t) => t.name === e.mapping!.source)?.columns.find((c) => c.name === m.sourceColumn);
        return { table: e.mapping!.source, column: m.sourceColumn, targetTable: e.mapping!.target, targetColumn: m.targetColumn, targetType: m.targetType, collation: def?.collation ?? null };
      }
    }
    return null;
  }

  /** Set-operation arms without ALL: their rows are made distinct, as by DISTINCT. */
  private readonly distinctArms = new WeakSet<object>();

  /** Per SELECT, its output columns that are a mapped column as it is (for the collation and type of `d.col`). */
  private readonly passedThrough = new WeakMap<object, Map<string, SourceColumn>>();

  select(s: Node, outer: Scope[]): void {
    // The order of the top-level result reaches the comparison only when it is compared in order.
    const orderMatters = outer.length === 0 && this.options.ordered === true;
    this.withClause(s, outer, (scopes) => {
      if (s.op && s.op !== 'SETOP_NONE') {
        // ORDER BY of a set operation names output columns, which keep their names (see below).
        const arms = [unwrap(s.larg, 'SelectStmt'), unwrap(s.rarg, 'SelectStmt')];
        if (!s.all) for (const arm of arms) this.distinctArms.add(arm);
        for (const arm of arms) this.select(arm, scopes);
        return;
      }
      const scope: Scope = { entries: [], ctes: new Map(), outputs: new Set(), hasUsingJoin: false };
      const chain = [scope, ...scopes];
      for (const item of (s.fromClause as Node[] | undefined) ?? []) this.fromItem(item, scope, chain);
      const targets = (s.targetList as Node[] | undefined) ?? [];
      for (const rt of targets) {
        const r = rt.ResTarget as { name?: string; val?: { ColumnRef?: { fields: Node[] } } };
        // A renamed column keeps the name it had as an output column: an enclosing query or ORDER BY may use it.
        const last = r.val?.ColumnRef?.fields[r.val.ColumnRef.fields.length - 1];
        if (!r.name && last && str(last) !== undefined) r.name = str(last);
        if (r.name) scope.outputs.add(r.name);
      }
      const passed = new Map<string, SourceColumn>();
      for (const rt of targets) {
        const r = rt.ResTarget as { name?: string; val?: Node };
        const source = r.name && r.val?.ColumnRef ? this.sourceColumn(r.val, chain) : null;
        if (source) passed.set(r.name!, source);
      }
      this.passedThrough.set(s, passed);
      if (this.dialect === 'mysql') {
        const distinctArm = this.distinctArms.has(s);
        checkClauses(s, { column: (ref) => this.sourceColumn(ref, chain), uses: this.collationUses }, { orderMatters, distinctArm });
      }
      for (const key of ['targetList', 'whereClause', 'havingClause', 'windowClause', 'distinctClause', 'limitCount', 'limitOffset']) {
        if (s[key]) this.expr(s[key], chain, 'input');
      }
      if (s.groupClause) this.expr(s.groupClause, chain, 'input-then-output');
      if (s.sortClause) this.expr(s.sortClause, chain, 'output-then-input');
      if (s.targetList) s.targetList = this.expandStars(targets, scope);
    });
  }

  /** Rewrites the CTEs (each sees the ones before it, a recursive one itself), then runs `body` with them in scope. */
  private withClause(s: Node, outer: Scope[], body: (scopes: Scope[]) => void): void {
    const w = s.withClause as { WithClause?: { ctes?: Node[]; recursive?: boolean } } | { ctes?: Node[]; recursive?: boolean } | undefined;
    const clause = w && 'WithClause' in w ? w.WithClause : (w as { ctes?: Node[]; recursive?: boolean } | undefined);
    if (!clause?.ctes) return body(outer);
    const level: Scope = { entries: [], ctes: new Map(), outputs: new Set(), hasUsingJoin: false };
    const scopes = [level, ...outer];
    for (const c of clause.ctes) {
      const cte = c.CommonTableExpr as { ctename: string; ctequery: Node; aliascolnames?: Node[] };
      const query = unwrap(cte.ctequery, 'SelectStmt');
      const declared = cte.aliascolnames?.map((n) => str(n)!);
      if (clause.recursive) level.ctes.set(cte.ctename, declared ? new Set(declared) : (outputNames(query) ? new Set(outputNames(query)) : null));
      this.select(query, scopes);
      const names = declared ?? outputNames(query);
      level.ctes.set(cte.ctename, names ? new Set(names) : null);
      // A column list renames the outputs by position: their sources are not followed then.
      const passed = declared ? undefined : this.passedThrough.get(query);
      if (passed) (level.cteSources ??= new Map()).set(cte.ctename, passed);
    }
    body(scopes);
  }

  private fromItem(item: Node, scope: Scope, chain: Scope[]): void {
    if (item.RangeVar) {
      const rv = item.RangeVar as { relname: string; schemaname?: string; catalogname?: string; alias?: { aliasname: string; colnames?: Node[] } };
      const cteScope = rv.schemaname ? undefined : chain.find((sc) => sc.ctes.has(rv.relname));
      const cte = cteScope?.ctes;
      const isCte = cte !== undefined;
      const mapping = isCte ? null : findName(this.plan.tables, rv.relname, (t) => t.source) ?? null;
      if (!isCte && !mapping) throw new Unrewritable(`the table ${rv.relname} is not in the approved mapping`);
      const visible = rv.alias?.aliasname ?? rv.relname;
      if (mapping) {
        rv.relname = mapping.target;
        delete rv.schemaname;
        delete rv.catalogname;
      }
      const colnames = rv.alias?.colnames?.map((c) => str(c)!);
      if (colnames && mapping) throw new Unrewritable(`the table alias ${visible}(${colnames.join(', ')}) renames columns positionally, which the mapping cannot follow`);
      const columns = colnames ? new Set(colnames) : (cte?.get(rv.relname) ?? null);
      const sources = colnames ? undefined : cteScope?.cteSources?.get(rv.relname);
      scope.entries.push({ visible, renamedTo: rv.alias ? visible : rv.relname, mapping, columns, ...(sources ? { sources } : {}) });
      return;
    }
    if (item.JoinExpr) {
      const j = item.JoinExpr as { larg: Node; rarg: Node; quals?: Node; usingClause?: Node[]; isNatural?: boolean; alias?: unknown };
      if (j.alias) throw new Unrewritable('an aliased join cannot be rewritten');
      this.fromItem(j.larg, scope, chain);
      const before = scope.entries.length;
      this.fromItem(j.rarg, scope, chain);
      if (j.isNatural) throw new Unrewritable('a NATURAL join matches columns by name, which renaming can change; name the join columns');
      if (j.usingClause) {
        scope.hasUsingJoin = true;
        j.usingClause = j.usingClause.map((u) => strNode(this.usingColumn(str(u)!, scope.entries.slice(0, before), scope.entries.slice(before))));
      }
      if (j.quals) this.expr(j.quals, chain, 'input');
      return;
    }
    if (item.RangeSubselect) {
      const r = item.RangeSubselect as { subquery: Node; alias?: { aliasname: string; colnames?: Node[] }; lateral?: boolean };
      this.select(unwrap(r.subquery, 'SelectStmt'), r.lateral ? chain : chain.slice(1));
      const alias = r.alias?.aliasname ?? '';
      const cols = r.alias?.colnames?.map((c) => str(c)!) ?? outputNames(unwrap(r.subquery, 'SelectStmt'));
      const sources = r.alias?.colnames ? undefined : this.passedThrough.get(unwrap(r.subquery, 'SelectStmt'));
      scope.entries.push({ visible: alias, renamedTo: alias, mapping: null, columns: cols ? new Set(cols) : null, ...(sources ? { sources } : {}) });
      return;
    }
    throw new Unrewritable(`${Object.keys(item)[0]} in FROM cannot be rewritten`);
  }

  /** A USING column names a column of both sides: it must map to the same target name on each. */
  private usingColumn(name: string, left: Entry[], right: Entry[]): string {
    const side = (entries: Entry[]): string | null => {
      const r = this.resolveIn(entries, name);
      return r === undefined ? null : r;
    };
    const l = side(left);
    const r = side(right);
    if (l === null || r === null || l !== r) throw new Unrewritable(`the join column ${name} in USING (…) does not map to one target column on both sides; write the join with ON`);
    return l;
  }

  /** The new name of column `name` among `entries`: undefined when none has it; throws when it is ambiguous. */
  private resolveIn(entries: Entry[], name: string): string | undefined {
    const found = new Set<string>();
    let unknown = false;
    for (const e of entries) {
      if (e.mapping) {
        const c = findName(e.mapping.columns, name, (m) => m.sourceColumn);
        if (c) found.add(c.targetColumn);
      } else if (e.columns) {
        if (e.columns.has(name)) found.add(name);
      } else unknown = true;
    }
    if (found.size > 1) throw new Unrewritable(`the column ${name} is ambiguous: qualify it with its table`);
    if (found.size === 1) return [...found][0]!;
    return unknown ? name : undefined;
  }

  /** `*` becomes the mapped columns of each table in source order (the target may order or hold columns otherwise). */
  private expandStars(list: Node[], scope: Scope): Node[] {
    const out: Node[] = [];
    for (const rt of list) {
      const fields = ((rt.ResTarget as { val?: { ColumnRef?: { fields: Node[] } } })?.val?.ColumnRef?.fields) ?? [];
      const isStar = fields.length > 0 && 'A_Star' in fields[fields.length - 1]!;
      if (!isStar) {
        out.push(rt);
        continue;
      }
      const qualifier = fields.length === 2 ? str(fields[0]) : undefined;
      if (fields.length > 2) throw new Unrewritable('a schema-qualified * cannot be rewritten');
      const entries = qualifier === undefined ? scope.entries : scope.entries.filter((e) => e.renamedTo === qualifier);
      if (qualifier !== undefined && entries.length === 0) throw new Unrewritable(`${qualifier}.* names no table of the query`);
      if (qualifier === undefined && scope.hasUsingJoin) throw new Unrewritable('SELECT * over a USING join cannot be expanded column by column; list the columns');
      if (entries.some((e) => !e.mapping)) {
        if (entries.some((e) => e.mapping)) throw new Unrewritable('* over mapped tables and subqueries together cannot be rewritten; list the columns');
        out.push(rt);
        continue;
      }
      for (const e of entries) {
        for (const c of e.mapping!.columns) {
          out.push({ ResTarget: { name: c.sourceColumn, val: { ColumnRef: { fields: [strNode(e.renamedTo), strNode(c.targetColumn)] } } } });
        }
      }
    }
    return out;
  }

  /** Walks an expression tree: column references are renamed in scope, subqueries get their own scope. */
  private expr(node: unknown, chain: Scope[], names: NameOrder): void {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const n of node) this.expr(n, chain, names);
      return;
    }
    const n = node as Node;
    // Translated before its children are renamed: operand types are looked up by their source names.
    if (this.dialect) {
      const column = (ref: Node): SourceColumn | null => this.sourceColumn(ref, chain);
      translateDialectNode(n, { dialect: this.dialect, columnType: (ref) => column(ref)?.targetType ?? null, column, collationUses: this.collationUses }, this.translation);
    }
    for (const [k, v] of Object.entries(n)) {
      if (k === 'SelectStmt') this.select(v as Node, chain);
      else if (k === 'ColumnRef') this.columnRef(v as { fields: Node[] }, chain, names);
      else this.expr(v, chain, names);
    }
  }

  /**
   * `order`: how a bare name resolves. ORDER BY prefers an output column (PostgreSQL's rule), GROUP BY an input
   * column; output columns keep their names, so a name resolved as one is left as written.
   */
  private columnRef(ref: { fields: Node[] }, chain: Scope[], order: NameOrder): void {
    const names = ref.fields.map((f) => ('A_Star' in f ? '*' : str(f)!));
    if (names.length === 1) {
      const name = names[0]!;
      if (name === '*') return;
      const isOutput = order !== 'input' && chain[0]!.outputs.has(name);
      if (isOutput && order === 'output-then-input') return;
      for (const scope of chain) {
        const to = this.resolveIn(scope.entries, name);
        if (to !== undefined) {
          ref.fields = [strNode(to)];
          return;
        }
      }
      if (isOutput) return;
      throw new Unrewritable(`the column ${name} is in no mapped table of the query (is it mapped?)`);
    }
    if (names.length > 3) throw new Unrewritable(`the reference ${names.join('.')} cannot be rewritten`);
    // [schema.]table.column: the schema is dropped (the target runs in its own schema).
    const [qualifier, column] = names.slice(-2) as [string, string];
    for (const scope of chain) {
      const e = scope.entries.find((x) => x.visible === qualifier) ?? findName(scope.entries, qualifier, (x) => x.visible);
      if (!e) continue;
      let to = column;
      if (column !== '*') {
        if (e.mapping) {
          const c = findName(e.mapping.columns, column, (m) => m.sourceColumn);
          if (!c) throw new Unrewritable(`the column ${qualifier}.${column} is not in the approved mapping`);
          to = c.targetColumn;
        }
      }
      ref.fields = [strNode(e.renamedTo), column === '*' ? { A_Star: {} } : strNode(to)];
      return;
    }
    throw new Unrewritable(`${names.join('.')} names no table of the query`);
  }
}

/** `{ Kind: {…} }` → `{…}`; set-operation arms come without the wrapper. */
function unwrap(n: unknown, kind: string): Node {
  const node = n as Node | undefined;
  const inner = node?.[kind] ?? (node && 'targetList' in node || node && 'op' in node ? node : undefined);
  if (!inner) throw new Unrewritable(`expected ${kind}`);
  return inner as Node;
}

/** Output names of a subquery when every item has one (alias or column name); null when a `*` hides them. */
function outputNames(s: Node): string[] | null {
  if (s.op && s.op !== 'SETOP_NONE') return outputNames(unwrap(s.larg, 'SelectStmt'));
  const names: string[] = [];
  for (const rt of (s.targetList as Node[] | undefined) ?? []) {
    const r = rt.ResTarget as { name?: string; val?: { ColumnRef?: { fields: Node[] } } };
    if (r.name) names.push(r.name);
    else if (r.val?.ColumnRef) {
      const last = r.val.ColumnRef.fields[r.val.ColumnRef.fields.length - 1]!;
      if ('A_Star' in last) return null;
      names.push(str(last)!);
    } else return null;
  }
  return names;
}
