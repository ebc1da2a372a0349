// The demo's legacy database: an SQLite file with abbreviated names, an FK cycle, a self-reference and bad rows.
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';

export interface LegacySampleFacts {
  path: string;
  rows: Record<string, number>;
  /** Rows planted to fail, by table: the demo's error queue must hold exactly these. */
  bad: Record<string, number>;
}

const FIRST = ['Amara', 'José', 'Zoë', 'Wei', 'Olu', 'Ingrid', 'Kwame', 'Léa', 'Hiroshi', 'Fatima', 'Søren', 'Priya', 'Mateus', 'Chidi', 'Anaïs'];
const LAST = ['Okafor', 'García', 'Müller', '李', 'Nakamura', 'Haddad', 'Kowalski', "O'Brien", 'Mensah', 'Silva', 'Ødegaard', 'Rao'];
const ROLES = ['LEAD', 'DEV', 'QA', 'OPS', 'PM'];

/** A small deterministic generator, so every demo database is the same. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * 12 departments (each has a parent department and a head employee: an FK cycle plus a self-reference),
 * 2,000 employees (managers: self-reference), 40 projects, 6,000 assignments (composite key). Five rows are bad on
 * purpose: a day-first date, an impossible date, a salary of 'n/a', an over-long project name, an assignment of an
 * employee that does not exist. Assignments of the rejected rows then lose their parent and are queued too.
 */
export function createLegacySample(path: string): LegacySampleFacts {
  rmSync(path, { force: true });
  const db = new Database(path);
  // Like many legacy SQLite databases, this one never enforced its foreign keys: that is how the orphan got in.
  db.pragma('foreign_keys = OFF');
  const rnd = prng(20261126);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  db.exec(`
    CREATE TABLE DEPT (
      DEPT_ID INTEGER PRIMARY KEY,
      DEPT_NM VARCHAR(60) NOT NULL,
      PARENT_DEPT_ID INTEGER REFERENCES DEPT(DEPT_ID),
      HEAD_EMP_ID INTEGER REFERENCES EMP(EMP_ID)
    );
    CREATE TABLE EMP (
      EMP_ID INTEGER PRIMARY KEY,
      FIRST_NM VARCHAR(40) NOT NULL,
      LAST_NM VARCHAR(40) NOT NULL,
      EMAIL_ADDR VARCHAR(120) UNIQUE,
      HIRE_DT DATE,
      SALARY_AMT DECIMAL(10,2),
      DEPT_ID INTEGER NOT NULL REFERENCES DEPT(DEPT_ID),
      MGR_ID INTEGER REFERENCES EMP(EMP_ID)
    );
    CREATE TABLE PROJ (
      PROJ_CD CHAR(6) PRIMARY KEY,
      PROJ_NM VARCHAR(40) NOT NULL,
      BUDGET_AMT DECIMAL(12,2),
      START_DT DATE
    );
    CREATE TABLE EMP_PROJ (
      EMP_ID INTEGER NOT NULL REFERENCES EMP(EMP_ID),
      PROJ_CD CHAR(6) NOT NULL REFERENCES PROJ(PROJ_CD),
      ROLE_CD VARCHAR(8),
      HRS_QTY INTEGER,
      PRIMARY KEY (EMP_ID, PROJ_CD)
    );
  `);
  const nDept = 12;
  const nEmp = 2000;
  const nProj = 40;
  const insertDept = db.prepare('INSERT INTO DEPT VALUES (?, ?, ?, ?)');
  const insertEmp = db.prepare('INSERT INTO EMP VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const insertProj = db.prepare('INSERT INTO PROJ VALUES (?, ?, ?, ?)');
  const insertAsg = db.prepare('INSERT INTO EMP_PROJ VALUES (?, ?, ?, ?)');
  const date = (y0: number, span: number): string => {
    const d = new Date(Date.UTC(y0, 0, 1) + Math.floor(rnd() * span * 365) * 86_400_000);
    return d.toISOString().slice(0, 10);
  };
  let asg = 0;
  db.transaction(() => {
    for (let d = 1; d <= nDept; d++) {
      insertDept.run(d, `Department ${d} — ${pick(['Finance', 'Ops', 'R&D', 'Sales', 'Support'])}`, d === 1 ? null : 1 + Math.floor((d - 2) / 3), d * 10);
    }
    for (let e = 1; e <= nEmp; e++) {
      const first = pick(FIRST);
      const last = pick(LAST);
      const salary = (30000 + Math.floor(rnd() * 9000000) / 100).toFixed(2);
      insertEmp.run(e, first, last, `${first}.${last}.${e}@example.com`.toLowerCase().replace(/[^a-z0-9.@]/g, ''), date(2005, 19), salary, 1 + (e % nDept), e <= 10 ? null : 1 + (e % 10));
    }
    for (let p = 1; p <= nProj; p++) {
      insertProj.run(`P${String(p).padStart(5, '0')}`, `Project ${p}`, (rnd() * 1e6).toFixed(2), date(2015, 10));
    }
    for (let e = 1; e <= nEmp; e++) {
      const projects = new Set<number>();
      while (projects.size < 3) projects.add(1 + Math.floor(rnd() * nProj));
      for (const p of projects) {
        insertAsg.run(e, `P${String(p).padStart(5, '0')}`, pick(ROLES), 1 + Math.floor(rnd() * 400));
        asg++;
      }
    }
    // The planted bad rows.
    db.prepare("UPDATE EMP SET HIRE_DT = '31/12/2019' WHERE EMP_ID = 101").run();
    db.prepare("UPDATE EMP SET HIRE_DT = '2021-02-30' WHERE EMP_ID = 202").run();
    db.prepare("UPDATE EMP SET SALARY_AMT = 'n/a' WHERE EMP_ID = 303").run();
    db.prepare("UPDATE PROJ SET PROJ_NM = 'Project with a name far longer than the forty characters allowed' WHERE PROJ_CD = 'P00007'").run();
    insertAsg.run(99999, 'P00001', 'DEV', 8);
    asg++;
  })();
  // Assignments of the rejected employees and project lose their parent and must be queued as well.
  const orphaned = db
    .prepare("SELECT count(*) AS n FROM EMP_PROJ WHERE EMP_ID IN (101, 202, 303, 99999) OR PROJ_CD = 'P00007'")
    .get() as { n: number };
  db.close();
  return {
    path,
    rows: { DEPT: nDept, EMP: nEmp, PROJ: nProj, EMP_PROJ: asg },
    bad: { DEPT: 0, EMP: 3, PROJ: 1, EMP_PROJ: orphaned.n },
  };
}
