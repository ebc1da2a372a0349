// The structural catalog: tables, columns, keys and constraints of one database, in a backend-neutral form.
import { z } from 'zod';
import { LogicalType } from './logical-type.js';
import { ColumnProfile, InferredRelationship } from './profile.js';

export { LogicalKind, LogicalType } from './logical-type.js';

export const ColumnDef = z.object({
  name: z.string(),
  /** The type as the source database declares it, verbatim (e.g. `int(10) unsigned`, `character varying(40)`). */
  declaredType: z.string(),
  logicalType: LogicalType,
  nullable: z.boolean(),
  /** The default as the database reports it, verbatim; informational. */
  defaultValue: z.string().nullable().default(null),
  /** 1-based position in the table. */
  ordinal: z.number().int().positive(),
  /** Computed by the database (generated column); never copied as data. */
  isGenerated: z.boolean().default(false),
  /**
   * The database numbers new rows itself (MySQL AUTO_INCREMENT, PostgreSQL serial or identity, SQLite INTEGER PRIMARY
   * KEY): a generated target gives it an identity column whose sequence is set past the loaded keys. Default false.
   */
  autoIncrement: z.boolean().optional(),
  /** Character set of stored text when it is not UTF-8 (`cp1252` for MySQL latin1); values arrive decoded. */
  encoding: z.string().optional(),
  /**
   * Collation of a text column as the source declares it (`utf8mb4_general_ci`), when the source reports one (MySQL and
   * MariaDB). A `_ci` collation compares case-insensitively: replayed queries fold or report comparisons over it.
   */
  collation: z.string().optional(),
  /** What the source connector noticed about the data (mixed storage classes, inferred type): shown as plan warnings. */
  notes: z.array(z.string()).optional(),
  /** Statistical and semantic profile, when the schema analyst has sampled the data. */
  profile: ColumnProfile.optional(),
});
export type ColumnDef = z.infer<typeof ColumnDef>;

export const ForeignKey = z.object({
  name: z.string(),
  columns: z.array(z.string()).min(1),
  refTable: z.string(),
  refColumns: z.array(z.string()).min(1),
  /** The constraint as the database would re-create it (PostgreSQL `pg_get_constraintdef`), when known. */
  definition: z.string().optional(),
});
export type ForeignKey = z.infer<typeof ForeignKey>;

export const UniqueConstraint = z.object({
  name: z.string(),
  columns: z.array(z.string()).min(1),
});
export type UniqueConstraint = z.infer<typeof UniqueConstraint>;

export const IndexDef = z.object({
  name: z.string(),
  columns: z.array(z.string()).min(1),
  unique: z.boolean(),
});
export type IndexDef = z.infer<typeof IndexDef>;

export const TableDef = z.object({
  /** Schema (PostgreSQL) or database (MySQL); `main` for SQLite. */
  schema: z.string(),
  name: z.string(),
  columns: z.array(ColumnDef),
  /** Primary key column names in key order; empty when the table has none. */
  primaryKey: z.array(z.string()),
  foreignKeys: z.array(ForeignKey),
  uniques: z.array(UniqueConstraint),
  /** Indexes over plain columns that are not the primary key or a unique constraint; expression indexes are left out. */
  indexes: z.array(IndexDef).optional(),
  /** Exact row count when the catalog was read with counts, else null. */
  rowCount: z.number().int().nonnegative().nullable(),
});
export type TableDef = z.infer<typeof TableDef>;

export const Catalog = z.object({
  /** Short name of the backend that produced it (`postgres`, `mysql`, `sqlite`, `pglite`), for display only. */
  dialect: z.string(),
  /** Database/schema the catalog describes. */
  database: z.string(),
  tables: z.array(TableDef),
  /** Relationships found by analysis (declared FKs and inferred ones with their evidence), when analysed. */
  relationships: z.array(InferredRelationship).optional(),
});
export type Catalog = z.infer<typeof Catalog>;

export function findTable(catalog: Catalog, name: string): TableDef | undefined {
  return catalog.tables.find((t) => t.name === name);
}
