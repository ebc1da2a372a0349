import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Catalog } from '../../../core/catalog.js';
import { openTarget } from '../../../connectors/open-target.js';
import { catalogFromDdl } from '../../../tools/planning/ddl-catalog.js';

const DDL = `-- a target schema as people write it
SET client_encoding = 'UTF8';
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN email AS varchar(120) NOT NULL;
CREATE TABLE departments (
  code varchar(4) PRIMARY KEY,
  name text NOT NULL DEFAULT 'unnamed',
  budget numeric(12,2),
  CONSTRAINT departments_name_key UNIQUE (name)
);
CREATE TABLE employees (
  employee_id serial,
  first_name character varying(40) NOT NULL,
  mail email,
  hired_on date DEFAULT CURRENT_DATE,
  seen_at timestamp(3) with time zone DEFAULT now(),
  updated timestamp,
  is_terminated boolean NOT NULL DEFAULT false,
  feeling mood,
  department_code varchar(4) REFERENCES departments ON DELETE CASCADE,
  manager_id integer,
  badge char(6) UNIQUE,
  tags text[],
  ratio double precision,
  small int2,
  big int8,
  full_name text GENERATED ALWAYS AS (first_name || '!') STORED,
  PRIMARY KEY (employee_id),
  CONSTRAINT emp_manager_fk FOREIGN KEY (manager_id) REFERENCES employees (employee_id),
  CHECK (ratio >= 0)
);
ALTER TABLE employees ADD CONSTRAINT employees_mail_key UNIQUE (mail);
ALTER TABLE employees ALTER COLUMN ratio SET NOT NULL;
CREATE INDEX employees_first_name_idx ON employees (first_name);
COMMENT ON TABLE employees IS 'people';
`;

/** What the planner uses of a catalog: everything but the verbatim texts of defaults and FK definitions. */
function shape(c: Catalog): unknown {
  return c.tables
    .map((t) => ({
      name: t.name,
      columns: t.columns.map((col) => ({ ...col, defaultValue: col.defaultValue === null ? null : 'set' })),
      primaryKey: t.primaryKey,
      foreignKeys: t.foreignKeys.map(({ definition: _, ...fk }) => fk).sort((a, b) => a.name.localeCompare(b.name)),
      uniques: [...t.uniques].sort((a, b) => a.name.localeCompare(b.name)),
      indexes: t.indexes ?? [],
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

describe('catalogFromDdl (libpg-query)', () => {
  let dir: string;
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sensei-ddl-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads what PostgreSQL itself would create: types, NOT NULL, defaults, keys, enums, domains, ALTER, indexes', async () => {
    const parsed = await catalogFromDdl(file('target.sql', DDL));
    // The oracle: the same DDL run in a real (embedded) PostgreSQL and read back from pg_catalog.
    const db = await openTarget('pglite://memory');
    let real: Catalog;
    try {
      await db.query(DDL);
      real = await db.catalog();
    } finally {
      await db.close();
    }
    // One difference on purpose: pg_catalog calls a column of a NOT NULL domain nullable, yet a NULL fails the insert;
    // Sensei marks it NOT NULL so the plan's not_null rule queues such rows before the insert.
    real.tables.find((t) => t.name === 'employees')!.columns.find((c) => c.name === 'mail')!.nullable = false;
    expect(shape(parsed.catalog)).toEqual(shape(real));
    const emp = parsed.catalog.tables.find((t) => t.name === 'employees')!;
    expect(emp.foreignKeys.find((f) => f.refTable === 'departments')).toMatchObject({
      name: 'employees_department_code_fkey',
      refColumns: ['code'],
      definition: 'FOREIGN KEY ("department_code") REFERENCES "departments" ("code") ON DELETE CASCADE',
    });
    expect(emp.columns.find((c) => c.name === 'hired_on')!.defaultValue).toBe('CURRENT_DATE');
    expect(parsed.warnings).toEqual([
      expect.stringMatching(/target\.sql:2:1: VariableSet statement skipped/),
      expect.stringMatching(/target\.sql:35:1: Comment statement skipped/),
    ]);
  });

  it('reads tables of other schemas, with their schema', async () => {
    const { catalog } = await catalogFromDdl(file('schemas.sql', 'CREATE SCHEMA app;\nCREATE TABLE app.items (id bigint PRIMARY KEY, app_ref bigint REFERENCES app.items (id));'));
    expect(catalog.tables.map((t) => [t.schema, t.name, t.primaryKey, t.foreignKeys[0]!.definition])).toEqual([
      ['app', 'items', ['id'], 'FOREIGN KEY ("app_ref") REFERENCES "app"."items" ("id")'],
    ]);
  });

  it('names line and column of a syntax error', async () => {
    const path = file('broken.sql', 'CREATE TABLE ok (id int);\nCREATE TABLE x (\n  id int,\n  name text NOTNULL\n);\n');
    await expect(catalogFromDdl(path)).rejects.toThrow(/broken\.sql:4:13: not valid PostgreSQL DDL: syntax error at or near "NOTNULL"/);
  });

  it('refuses statements it cannot read, naming kind and place, instead of planning on a misread schema', async () => {
    await expect(catalogFromDdl(file('inherit.sql', 'CREATE TABLE a (id int);\n\nCREATE TABLE b (x int) INHERITS (a);'))).rejects.toThrow(/inherit\.sql:3:1: CREATE TABLE b with INHERITS, PARTITION or OF is not supported/);
    await expect(catalogFromDdl(file('drop.sql', 'CREATE TABLE a (id int);\nDROP TABLE a;'))).rejects.toThrow(/drop\.sql:2:1: Drop statement is not supported/);
    await expect(catalogFromDdl(file('alter.sql', 'CREATE TABLE a (id int);\nALTER TABLE a DROP COLUMN id;'))).rejects.toThrow(/alter\.sql:2:1: ALTER TABLE a DropColumn is not supported/);
    await expect(catalogFromDdl(file('dangling.sql', 'CREATE TABLE a (p int REFERENCES missing);'))).rejects.toThrow(/references table missing, which the DDL does not create/);
    await expect(catalogFromDdl(file('empty.sql', 'SET search_path = public;'))).rejects.toThrow(/creates no table/);
    await expect(catalogFromDdl(join(dir, 'nope.sql'))).rejects.toThrow(/cannot read the DDL file/);
  });
});
