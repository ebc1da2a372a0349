// The catalog a DDL file describes, read with the real PostgreSQL parser (libpg-query): no database, no guessing.
import { readFile } from 'node:fs/promises';
import { loadModule, parseSync } from 'libpg-query';
import type { Catalog, ColumnDef, ForeignKey, LogicalType, TableDef } from '../../core/catalog.js';
import { ConfigError } from '../../core/errors.js';
import { postgresLogicalType } from '../../connectors/postgres/postgres-types.js';
import { quoteIdent } from './identifiers.js';

export interface DdlCatalog {
  catalog: Catalog;
  ddl: string;
  /** Statements read but left out of the catalog because they do not shape what is loaded (GRANT, COMMENT, …). */
  warnings: string[];
}

/**
 * Parses a DDL file into the catalog it would create: CREATE SCHEMA, CREATE TYPE … AS ENUM, CREATE DOMAIN, CREATE
 * TABLE (columns, types, NOT NULL, defaults, generated and identity columns, PRIMARY KEY, UNIQUE, FOREIGN KEY inline
 * and as table constraints), ALTER TABLE (ADD CONSTRAINT, ADD COLUMN, SET/DROP NOT NULL, SET/DROP DEFAULT) and
 * CREATE [UNIQUE] INDEX. Statements that cannot change what is loaded (SET, COMMENT, GRANT, sequences, views,
 * functions, …) are skipped with a warning; anything else is refused with its line and column, so the plan never
 * rests on a schema Sensei misread. The user's target is untouched until the plan is approved.
 */
export async function catalogFromDdl(path: string): Promise<DdlCatalog> {
  let ddl: string;
  try {
    ddl = await readFile(path, 'utf8');
  } catch {
    throw new ConfigError(`target.schema: cannot read the DDL file ${path}`, { hint: 'check the path (relative paths are relative to the config file)' });
  }
  await loadModule();
  const { catalog, warnings } = catalogFromDdlText(ddl, path);
  return { catalog, ddl, warnings };
}

type Node = Record<string, any>;

/** Where in the file: `path:line:column` (1-based) of a 0-based character offset. */
function at(path: string, text: string, offset: number): string {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `${path}:${line}:${column}`;
}

/** Statement kinds that do not change tables, columns or keys: skipped with a warning. */
const IGNORED = new Set([
  'VariableSetStmt', 'CommentStmt', 'GrantStmt', 'GrantRoleStmt', 'CreateExtensionStmt', 'CreateSeqStmt', 'AlterSeqStmt',
  'AlterOwnerStmt', 'ViewStmt', 'CreateFunctionStmt', 'CreateTrigStmt', 'CreatePolicyStmt', 'AlterDefaultPrivilegesStmt',
  'SelectStmt', 'TransactionStmt', 'CreateRoleStmt', 'AlterRoleStmt', 'RuleStmt', 'CreateStatsStmt',
]);

/** ALTER TABLE sub-commands that do not change what is loaded. */
const IGNORED_ALTER = new Set(['AT_ChangeOwner', 'AT_EnableRowSecurity', 'AT_DisableRowSecurity', 'AT_SetStatistics', 'AT_ClusterOn', 'AT_ReplicaIdentity']);

/** The synchronous part of {@link catalogFromDdl}, once the parser is loaded. `path` only names the file in messages. */
export function catalogFromDdlText(ddl: string, path: string): { catalog: Catalog; warnings: string[] } {
  let ast: { stmts?: Array<{ stmt: Node; stmt_location?: number; stmt_len?: number }> };
  try {
    ast = parseSync(ddl) as typeof ast;
  } catch (e) {
    const details = (e as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    const where = details?.cursorPosition !== undefined ? at(path, ddl, details.cursorPosition) : path;
    throw new ConfigError(`target.schema: ${where}: not valid PostgreSQL DDL: ${e instanceof Error ? e.message : String(e)}`, {
      hint: 'fix the DDL file at that line and column; it must run on an empty PostgreSQL database',
    });
  }
  const b = new CatalogBuilder(ddl, path);
  for (const s of ast.stmts ?? []) {
    const [kind, node] = Object.entries(s.stmt)[0] as [string, Node];
    const where = at(path, ddl, firstNonBlank(ddl, s.stmt_location ?? 0));
    b.statement(kind, node, where);
  }
  return b.finish();
}

function firstNonBlank(text: string, from: number): number {
  let i = from;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  return i;
}

const names = (list: Node[] | undefined): string[] => (list ?? []).map((n) => String(n.String?.sval ?? ''));

interface TypeInfo {
  declared: string;
  logical: LogicalType;
  /** A domain's NOT NULL. */
  notNull?: boolean;
}

class CatalogBuilder {
  private readonly tables = new Map<string, TableDef>();
  private readonly enums = new Map<string, string[]>();
  private readonly domains = new Map<string, TypeInfo>();
  private readonly warnings: string[] = [];
  /** Foreign keys whose referenced columns default to the parent's primary key, resolved at the end. */
  private readonly pendingRefs: Array<{ fk: ForeignKey; con: Node; where: string }> = [];

  constructor(
    private readonly ddl: string,
    private readonly path: string,
  ) {}

  statement(kind: string, node: Node, where: string): void {
    switch (kind) {
      case 'CreateSchemaStmt':
        for (const e of node.schemaElts ?? []) {
          const [k, n] = Object.entries(e as Node)[0] as [string, Node];
          this.statement(k, n, where);
        }
        return;
      case 'CreateEnumStmt':
        this.enums.set(names(node.typeName).at(-1)!, names(node.vals));
        return;
      case 'CreateDomainStmt': {
        const base = this.type(node.typeName, where);
        const notNull = (node.constraints ?? []).some((c: Node) => c.Constraint?.contype === 'CONSTR_NOTNULL');
        this.domains.set(names(node.domainname).at(-1)!, { ...base, notNull });
        return;
      }
      case 'CreateStmt':
        return this.createTable(node, where);
      case 'AlterTableStmt':
        return this.alterTable(node, where);
      case 'IndexStmt':
        return this.index(node, where);
      default:
        if (IGNORED.has(kind)) {
          this.warnings.push(`${where}: ${kind.replace(/Stmt$/, '')} statement skipped (it does not change the tables Sensei loads)`);
          return;
        }
        this.unsupported(where, `${kind.replace(/Stmt$/, '')} statement`);
    }
  }

  private unsupported(where: string, what: string): never {
    throw new ConfigError(`target.schema: ${where}: ${what} is not supported in a target DDL file`, {
      hint: 'Sensei reads CREATE SCHEMA/TYPE … AS ENUM/DOMAIN/TABLE/INDEX and ALTER TABLE … ADD CONSTRAINT; remove the statement, or create the target yourself and leave target.schema out',
    });
  }

  private table(relation: Node, where: string): TableDef {
    const t = this.tables.get(String(relation.relname));
    if (!t) throw new ConfigError(`target.schema: ${where}: table ${relation.relname} is altered or indexed before it is created`, { hint: 'create the table first' });
    return t;
  }

  private createTable(node: Node, where: string): void {
    const rel = node.relation as Node;
    if (node.inhRelations || node.partspec || node.partbound || node.ofTypename) this.unsupported(where, `CREATE TABLE ${rel.relname} with INHERITS, PARTITION or OF`);
    const name = String(rel.relname);
    if (this.tables.has(name)) throw new ConfigError(`target.schema: ${where}: table ${name} is created twice (schemas ${this.tables.get(name)!.schema} and ${rel.schemaname ?? 'public'})`, { hint: 'Sensei loads one table per name: keep one' });
    const table: TableDef = { schema: String(rel.schemaname ?? 'public'), name, columns: [], primaryKey: [], foreignKeys: [], uniques: [], rowCount: null };
    this.tables.set(name, table);
    for (const elt of node.tableElts ?? []) {
      if (elt.ColumnDef) this.addColumn(table, elt.ColumnDef as Node, where);
      else if (elt.Constraint) this.addConstraint(table, elt.Constraint as Node, where);
      else this.unsupported(where, `${Object.keys(elt)[0]} in CREATE TABLE ${name}`);
    }
  }

  private addColumn(table: TableDef, c: Node, where: string): void {
    const type = this.type(c.typeName, where);
    let declared = type.declared;
    let defaultValue: string | null = null;
    const serial = /^(small|big)?serial$/.exec(declared);
    if (serial) {
      declared = serial[1] === 'small' ? 'smallint' : serial[1] === 'big' ? 'bigint' : 'integer';
      defaultValue = `nextval('${table.name}_${c.colname}_seq'::regclass)`;
    }
    const col: ColumnDef = {
      name: String(c.colname),
      declaredType: declared,
      logicalType: serial ? postgresLogicalType(declared) : type.logical,
      nullable: !serial && !type.notNull,
      defaultValue,
      ordinal: table.columns.length + 1,
      isGenerated: false,
      // As the introspector says it: serial and identity columns (and a nextval default) number new rows.
      ...(serial ? { autoIncrement: true } : {}),
    };
    table.columns.push(col);
    for (const k of c.constraints ?? []) {
      const con = k.Constraint as Node;
      switch (con.contype) {
        case 'CONSTR_NOTNULL':
          col.nullable = false;
          break;
        case 'CONSTR_NULL':
          break;
        case 'CONSTR_DEFAULT':
          col.defaultValue = this.expressionText(con.raw_expr);
          if (/^nextval\(/i.test(col.defaultValue)) col.autoIncrement = true;
          break;
        case 'CONSTR_IDENTITY':
          col.nullable = false;
          col.autoIncrement = true;
          break;
        case 'CONSTR_GENERATED':
          col.isGenerated = true;
          break;
        case 'CONSTR_CHECK':
          break;
        default:
          this.addConstraint(table, { ...con, keys: [{ String: { sval: col.name } }], fk_attrs: [{ String: { sval: col.name } }] }, where);
      }
    }
  }

  private addConstraint(table: TableDef, con: Node, where: string): void {
    const keys = names(con.keys);
    switch (con.contype) {
      case 'CONSTR_PRIMARY':
        table.primaryKey = keys;
        for (const k of keys) {
          const col = table.columns.find((c) => c.name === k);
          if (!col) throw new ConfigError(`target.schema: ${where}: primary key column ${table.name}.${k} does not exist`, { hint: 'fix the key' });
          col.nullable = false;
        }
        return;
      case 'CONSTR_UNIQUE':
        table.uniques.push({ name: con.conname ?? defaultName(table.name, keys, 'key'), columns: keys });
        return;
      case 'CONSTR_FOREIGN': {
        const columns = names(con.fk_attrs);
        const ref = con.pktable as Node;
        const fk: ForeignKey = {
          name: con.conname ?? defaultName(table.name, columns, 'fkey'),
          columns,
          refTable: String(ref.relname),
          refColumns: names(con.pk_attrs),
        };
        table.foreignKeys.push(fk);
        this.pendingRefs.push({ fk, con, where });
        return;
      }
      case 'CONSTR_CHECK':
      case 'CONSTR_EXCLUSION':
        return;
      default:
        this.unsupported(where, `constraint ${String(con.contype).replace('CONSTR_', '')} on ${table.name}`);
    }
  }

  private alterTable(node: Node, where: string): void {
    if (node.objtype && node.objtype !== 'OBJECT_TABLE') {
      this.warnings.push(`${where}: ALTER ${String(node.objtype).replace('OBJECT_', '')} skipped (it does not change the tables Sensei loads)`);
      return;
    }
    const table = this.table(node.relation as Node, where);
    for (const c of node.cmds ?? []) {
      const cmd = c.AlterTableCmd as Node;
      const col = (): ColumnDef => {
        const found = table.columns.find((x) => x.name === cmd.name);
        if (!found) throw new ConfigError(`target.schema: ${where}: column ${table.name}.${cmd.name} does not exist`, { hint: 'fix the column name' });
        return found;
      };
      switch (cmd.subtype) {
        case 'AT_AddConstraint':
          this.addConstraint(table, cmd.def.Constraint as Node, where);
          break;
        case 'AT_AddColumn':
          this.addColumn(table, cmd.def.ColumnDef as Node, where);
          break;
        case 'AT_SetNotNull':
          col().nullable = false;
          break;
        case 'AT_DropNotNull':
          col().nullable = true;
          break;
        case 'AT_ColumnDefault': {
          const target = col();
          target.defaultValue = cmd.def ? this.expressionText(cmd.def) : null;
          if (/^nextval\(/i.test(target.defaultValue ?? '')) target.autoIncrement = true;
          else delete target.autoIncrement;
          break;
        }
        default:
          if (IGNORED_ALTER.has(cmd.subtype)) this.warnings.push(`${where}: ALTER TABLE ${table.name} ${String(cmd.subtype).replace('AT_', '')} skipped`);
          else this.unsupported(where, `ALTER TABLE ${table.name} ${String(cmd.subtype).replace('AT_', '')}`);
      }
    }
  }

  private index(node: Node, where: string): void {
    const table = this.table(node.relation as Node, where);
    const params = (node.indexParams ?? []).map((p: Node) => p.IndexElem as Node);
    // Expression and partial indexes constrain nothing a column mapping can name.
    if (node.whereClause || params.some((p: Node) => !p.name)) return;
    const columns = params.map((p: Node) => String(p.name));
    const name = String(node.idxname ?? defaultName(table.name, columns, node.unique ? 'key' : 'idx'));
    if (node.unique) table.uniques.push({ name, columns });
    else table.indexes = [...(table.indexes ?? []), { name, columns, unique: false }];
  }

  /** The type as PostgreSQL's `format_type` prints it, and its logical type (enums: text limited to their labels). */
  private type(typeName: Node, where: string): TypeInfo {
    const parts = names(typeName.names);
    const name = parts.at(-1)!;
    const mods = (typeName.typmods ?? []).map((m: Node) => m.A_Const?.ival?.ival ?? 0) as number[];
    const array = typeName.arrayBounds ? '[]'.repeat(typeName.arrayBounds.length) : '';
    if (this.enums.has(name)) return { declared: `${name}${array}`, logical: array ? { kind: 'unknown' } : { kind: 'text', values: this.enums.get(name)! } };
    const domain = this.domains.get(name);
    if (domain) return { declared: `${name}${array}`, logical: array ? { kind: 'unknown' } : domain.logical, ...(domain.notNull ? { notNull: true } : {}) };
    if (typeName.pct_type) this.unsupported(where, `a %TYPE column type`);
    const declared = `${formatType(name, mods, parts.length > 1 && parts[0] !== 'pg_catalog' ? parts.slice(0, -1) : [])}${array}`;
    return { declared, logical: /^(public\.)?citext$/i.test(declared) ? { kind: 'text' } : postgresLogicalType(declared) };
  }

  /** The source text of an expression (defaults are informational): from its start to the end of its balanced span. */
  private expressionText(expr: Node): string {
    const start = Number((Object.values(expr)[0] as Node).location ?? -1);
    if (start < 0) return 'DEFAULT';
    let depth = 0;
    let quote = false;
    let i = start;
    for (; i < this.ddl.length; i++) {
      const ch = this.ddl[i]!;
      if (quote) {
        if (ch === "'") quote = this.ddl[i + 1] === "'" ? (i++, true) : false;
        continue;
      }
      if (ch === "'") quote = true;
      else if (ch === '(') depth++;
      else if (ch === ')') {
        if (depth === 0) break;
        depth--;
      } else if ((ch === ',' || ch === ';') && depth === 0) break;
      else if (depth === 0 && /\s/.test(ch) && /^\s+(NOT\s+NULL|NULL|CONSTRAINT|PRIMARY|UNIQUE|REFERENCES|CHECK|GENERATED|COLLATE)\b/i.test(this.ddl.slice(i))) break;
    }
    return this.ddl.slice(start, i).trim();
  }

  finish(): { catalog: Catalog; warnings: string[] } {
    for (const { fk, con, where } of this.pendingRefs) {
      const parent = this.tables.get(fk.refTable);
      if (!parent) throw new ConfigError(`target.schema: ${where}: foreign key ${fk.name} references table ${fk.refTable}, which the DDL does not create`, { hint: 'create the referenced table in the same file' });
      if (fk.refColumns.length === 0) {
        if (parent.primaryKey.length === 0) throw new ConfigError(`target.schema: ${where}: foreign key ${fk.name} references ${fk.refTable}, which has no primary key`, { hint: 'name the referenced columns' });
        fk.refColumns = [...parent.primaryKey];
      }
      fk.definition = fkDefinition(con, fk);
    }
    if (this.tables.size === 0) throw new ConfigError(`target.schema: ${this.path} creates no table`, { hint: 'the DDL must CREATE TABLE the target tables' });
    return { catalog: { dialect: 'postgres', database: this.path, tables: [...this.tables.values()] }, warnings: this.warnings };
  }
}

/** PostgreSQL's names for built-in types as `format_type` prints them. */
const TYPE_NAMES: Readonly<Record<string, string>> = {
  int2: 'smallint', int4: 'integer', int8: 'bigint', float4: 'real', float8: 'double precision', bool: 'boolean',
  varchar: 'character varying', bpchar: 'character', varbit: 'bit varying', int: 'integer', smallint: 'smallint',
  bigint: 'bigint', integer: 'integer', boolean: 'boolean', real: 'real', decimal: 'numeric', numeric: 'numeric',
};

function formatType(name: string, mods: number[], schema: string[]): string {
  const n = name.toLowerCase();
  const tz = /^(timestamp|time)(tz)?$/.exec(n);
  if (tz) return `${tz[1]}${mods.length > 0 ? `(${mods[0]})` : ''} ${tz[2] ? 'with' : 'without'} time zone`;
  if (n === 'interval') return 'interval';
  const base = TYPE_NAMES[n] ?? (schema.length > 0 ? `${schema.join('.')}.${name}` : name);
  // `character` without a length is character(1); the other lengths print as written.
  if (base === 'character' && mods.length === 0) return 'character(1)';
  return mods.length > 0 ? `${base}(${mods.join(',')})` : base;
}

/** The name PostgreSQL gives an unnamed constraint (`orders_customer_id_fkey`), cut to 63 bytes like the server. */
function defaultName(table: string, columns: string[], suffix: string): string {
  return `${table}_${columns.join('_')}_${suffix}`.slice(0, 63);
}

const FK_ACTIONS: Readonly<Record<string, string>> = { r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };

/** The foreign key as `ALTER TABLE … ADD CONSTRAINT` takes it (the executor re-creates it after the load). */
function fkDefinition(con: Node, fk: ForeignKey): string {
  const refSchema = (con.pktable as Node).schemaname as string | undefined;
  const ref = refSchema ? `${quoteIdent(refSchema)}.${quoteIdent(fk.refTable)}` : quoteIdent(fk.refTable);
  let def = `FOREIGN KEY (${fk.columns.map(quoteIdent).join(', ')}) REFERENCES ${ref} (${fk.refColumns.map(quoteIdent).join(', ')})`;
  if (con.fk_matchtype === 'f') def += ' MATCH FULL';
  if (FK_ACTIONS[con.fk_upd_action]) def += ` ON UPDATE ${FK_ACTIONS[con.fk_upd_action]}`;
  if (FK_ACTIONS[con.fk_del_action]) def += ` ON DELETE ${FK_ACTIONS[con.fk_del_action]}`;
  if (con.deferrable) def += con.initdeferred ? ' DEFERRABLE INITIALLY DEFERRED' : ' DEFERRABLE';
  return def;
}
