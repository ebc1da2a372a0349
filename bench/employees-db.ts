// The bench source: the MySQL employees sample (`employees/` in SENSEI_DATASETS, default ../shared/datasets) ×N in
// MariaDB, built once as `sensei_bench_emp_xN` (emp_no offset by a million per copy) and reused by later runs.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import mysql from 'mysql2/promise';

export const MYSQL = process.env.SENSEI_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/';
export const BENCH_TABLES = ['department', 'employee', 'dept_emp', 'dept_manager', 'title', 'salary'];

export function withDb(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** Builds (or reuses) `sensei_bench_emp_xN` in MariaDB; returns its name and total row count. */
export async function employeesDatabase(scale: number): Promise<{ name: string; rows: number; url: string }> {
  const employees = join(resolve(process.env.SENSEI_DATASETS ?? '../shared/datasets'), 'employees');
  const name = `sensei_bench_emp_x${scale}`;
  const admin = await mysql.createConnection({ uri: MYSQL, multipleStatements: true });
  try {
    const [dbs] = await admin.query('SELECT schema_name FROM information_schema.schemata WHERE schema_name = ?', [name]);
    if ((dbs as unknown[]).length > 0) {
      const [ok] = await admin.query(`SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = ? AND table_name = 'bench_ready'`, [name]);
      if (Number((ok as Array<{ n: number }>)[0]?.n) === 1) return { name, rows: await countMysql(admin, name), url: withDb(MYSQL, name) };
      await admin.query(`DROP DATABASE \`${name}\``);
    }
    if (!existsSync(join(employees, 'employee.sql'))) throw new Error(`no employees dataset at ${employees}: set SENSEI_DATASETS`);
    process.stderr.write(`building ${name} in MariaDB (×${scale})…\n`);
    const schema = readFileSync(join(employees, 'employee.sql'), 'utf8');
    const ddl = schema.slice(schema.indexOf('CREATE TABLE employee'), schema.indexOf('CREATE OR REPLACE VIEW'));
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4; USE \`${name}\`; ${ddl}`);
    for (const f of ['load_department.sql', 'load_employee.sql', 'load_dept_emp.sql', 'load_dept_manager.sql', 'load_title.sql', 'load_salary1.sql']) {
      await admin.query(readFileSync(join(employees, f), 'utf8'));
    }
    const copy = { employee: 'birth_date, first_name, last_name, gender, hire_date', dept_emp: 'dept_no, from_date, to_date', dept_manager: 'dept_no, from_date, to_date', title: 'title, from_date, to_date', salary: 'amount, from_date, to_date' };
    for (let k = 1; k < scale; k++) {
      for (const [t, cols] of Object.entries(copy)) {
        await admin.query(`INSERT INTO \`${t}\` (emp_no, ${cols}) SELECT emp_no + ${k * 1_000_000}, ${cols} FROM \`${t}\` WHERE emp_no < 1000000`);
      }
    }
    await admin.query('CREATE TABLE bench_ready (x int)');
    return { name, rows: await countMysql(admin, name), url: withDb(MYSQL, name) };
  } finally {
    await admin.end();
  }
}

async function countMysql(c: mysql.Connection, db: string): Promise<number> {
  let n = 0;
  for (const t of BENCH_TABLES) {
    const [r] = await c.query(`SELECT count(*) AS n FROM \`${db}\`.\`${t}\``);
    n += Number((r as Array<{ n: number }>)[0]?.n);
  }
  return n;
}
