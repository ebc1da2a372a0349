// The target contract against a real PostgreSQL server and embedded PGlite, plus what only one of them can do.
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTarget } from '../../connectors/open-target.js';
import { PgliteTarget } from '../../connectors/pglite/pglite-target.js';
import { PostgresTarget } from '../../connectors/postgres/postgres-target.js';
import { isConfigError, isConnectionError, type SenseiError } from '../../core/errors.js';
import { createPgDatabase, pgExec, tempDir } from '../fixtures/databases.js';
import { runTargetContract } from './target-contract.js';

runTargetContract('PostgresTarget', async () => {
  const db = await createPgDatabase('sensei_tgt');
  return { open: () => openTarget(db.url), teardown: () => db.drop() };
});

runTargetContract('PgliteTarget (data dir)', async () => {
  const dir = tempDir('sensei-pglite-');
  return { open: () => openTarget(`pglite://${join(dir.path, 'db')}`), teardown: async () => dir.remove() };
});

runTargetContract('PgliteTarget (memory)', async () => ({
  open: () => openTarget('pglite://memory'),
  teardown: async () => {},
}));

describe('openTarget', () => {
  it('opens PostgreSQL for postgres:// and postgresql://, with ?schema=', async () => {
    const db = await createPgDatabase('sensei_tgt');
    try {
      await pgExec(db.url, 'CREATE SCHEMA "Load Here"; CREATE TABLE "Load Here"."t1" ("id" int PRIMARY KEY); CREATE TABLE public."other" ("x" int);');
      const target = await openTarget(`${db.url.replace(/^postgres:/, 'postgresql:')}?schema=Load%20Here`);
      try {
        expect(target).toBeInstanceOf(PostgresTarget);
        expect(target.schema).toBe('Load Here');
        expect(target.database).toBe(db.name);
        expect(target.capabilities).toEqual({ bulkWrite: 'copy-stream', supportsTransactionalDdl: true, supportsConcurrentSessions: true });
        const catalog = await target.catalog();
        expect(catalog.tables.map((t) => `${t.schema}.${t.name}`)).toEqual(['Load Here.t1']);
        const n = await target.transaction((s) => s.copyFrom('"Load Here"."t1"', ['id'], '1\n2\n'));
        expect(n).toBe(2);
      } finally {
        await target.close();
      }
    } finally {
      await db.drop();
    }
  });

  it('opens PGlite for pglite:///abs, pglite:relative (against the working directory) and pglite://memory', async () => {
    const dir = tempDir('sensei-pglite-');
    try {
      const abs = join(dir.path, 'rel');
      const rel = await openTarget(`pglite:${relative(process.cwd(), abs)}`);
      try {
        expect(rel).toBeInstanceOf(PgliteTarget);
        expect((rel as PgliteTarget).dataDir).toBe(abs);
        expect(rel.database).toBe('rel');
        expect(rel.schema).toBe('public');
        expect(rel.dialect).toBe('pglite');
        expect(rel.capabilities).toEqual({ bulkWrite: 'blob-copy', supportsTransactionalDdl: true, supportsConcurrentSessions: false });
        expect(existsSync(join(abs, 'PG_VERSION'))).toBe(true);
      } finally {
        await rel.close();
      }
      const mem = await openTarget('pglite://memory');
      try {
        expect(mem.database).toBe('memory');
        expect((mem as PgliteTarget).dataDir).toBeNull();
      } finally {
        await mem.close();
      }
    } finally {
      dir.remove();
    }
  });

  it('refuses an unknown scheme with a ConfigError listing the target schemes, never echoing the URL', async () => {
    const err = (await openTarget('mysql://root:hunter2secret@db.example/app').catch((e: unknown) => e)) as SenseiError;
    expect(isConfigError(err)).toBe(true);
    expect(err.message).toMatch(/"mysql:"/);
    expect(err.message).not.toMatch(/hunter2secret/);
    expect(err.hint).toMatch(/postgres:\/\//);
    expect(err.hint).toMatch(/postgresql:\/\//);
    expect(err.hint).toMatch(/pglite:\/\//);
    await expect(openTarget('just-a-path')).rejects.toSatisfy(isConfigError);
  });

  it('refuses pglite:// URLs that name a host or no directory', async () => {
    await expect(openTarget('pglite://somehost/data')).rejects.toSatisfy(isConfigError);
    await expect(openTarget('pglite:')).rejects.toSatisfy(isConfigError);
  });
});

describe('PostgresTarget.copyTo', () => {
  it('streams a query out as COPY text in order, pieces joined, escapes kept, in the session\'s transaction', async () => {
    const db = await createPgDatabase('sensei_tgt');
    const target = await openTarget(db.url);
    try {
      await pgExec(db.url, `CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 20000) g; INSERT INTO t VALUES (0, E'tab\\there \\\\ back é')`);
      const pieces: string[] = [];
      await target.transaction(async (s) => {
        await s.query(`INSERT INTO t VALUES (-1, 'uncommitted')`);
        await s.copyTo!('SELECT id, v FROM t ORDER BY id', (text) => void pieces.push(text));
        throw new Error('roll back');
      }).catch(() => undefined);
      const lines = pieces.join('').split('\n');
      expect(pieces.length).toBeGreaterThan(1);
      expect(lines.slice(0, 3)).toEqual(['-1\tuncommitted', '0\ttab\\there \\\\ back é', '1\tv1']);
      expect(lines.at(-2)).toBe('20000\tv20000');
      expect(lines).toHaveLength(20003);
    } finally {
      await target.close();
      await db.drop();
    }
  });

  it('cancels the statement when the consumer fails, throws the consumer\'s error, and the session and pool stay usable', async () => {
    const db = await createPgDatabase('sensei_tgt');
    const target = await openTarget(db.url);
    try {
      let calls = 0;
      const failing = target.transaction(async (s) => {
        // 400 million rows, produced as they are sent: read to the end, they would outlast the test's timeout.
        await s.copyTo!('SELECT a.g, b.g FROM generate_series(1, 20000) a (g), generate_series(1, 20000) b (g)', () => {
          calls++;
          throw new Error('disk full');
        });
      });
      await expect(failing).rejects.toThrow('disk full');
      expect(calls).toBe(1);
      // No statement of this database is still running, and every pooled connection answers.
      const active = await target.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'COPY (%' AND state = 'active'`);
      expect(Number(active.rows[0]!.n)).toBe(0);
      const answers = await Promise.all(Array.from({ length: 8 }, () => target.transaction((s) => s.query<{ one: string }>('SELECT 1 AS one'))));
      expect(answers.map((r) => r.rows[0]!.one)).toEqual(Array(8).fill('1'));
    } finally {
      await target.close();
      await db.drop();
    }
  });
  // PGlite has no copyTo: its certificates are hashed through a cursor (test/cli/errors-retry.test.ts certifies a
  // PGlite target).
});

describe('PostgresTarget connection failures', () => {
  it('reports an unreachable server as a ConnectionError naming host:port/database, never the password', async () => {
    const err = (await openTarget('postgres://postgres:pw-s3cret-42@127.0.0.1:1/somedb').catch((e: unknown) => e)) as SenseiError;
    expect(isConnectionError(err)).toBe(true);
    expect(err.message).toContain('127.0.0.1:1/somedb');
    expect(err.message).not.toContain('pw-s3cret-42');
    expect(err.hint).toMatch(/start the PostgreSQL server|host and port/);
  });

  it('reports a missing database with a hint to create it', async () => {
    const err = (await openTarget('postgres://postgres@127.0.0.1:5432/sensei_no_such_db_xyz').catch((e: unknown) => e)) as SenseiError;
    expect(isConnectionError(err)).toBe(true);
    expect(err.message).toContain('127.0.0.1:5432/sensei_no_such_db_xyz');
    expect(err.message).toMatch(/does not exist/);
    expect(err.hint).toMatch(/create database sensei_no_such_db_xyz/);
  });

  it('refuses use before connect()', async () => {
    const target = new PostgresTarget('postgres://postgres@127.0.0.1:5432/postgres');
    await expect(target.query('SELECT 1')).rejects.toSatisfy(isConnectionError);
  });
});

describe('PgliteTarget', () => {
  it('refuses a second instance on an open data dir, and reopens it (with its data) once the first is closed', async () => {
    const dir = tempDir('sensei-pglite-');
    try {
      const path = join(dir.path, 'shared');
      const first = await openTarget(`pglite://${path}`);
      let firstOpen = true;
      try {
        await first.query('CREATE TABLE "kept" ("v" text); INSERT INTO "kept" VALUES (\'still here\')');
        const err = (await openTarget(`pglite:${relative(process.cwd(), path)}`).catch((e: unknown) => e)) as SenseiError;
        expect(isConnectionError(err)).toBe(true);
        expect(err.message).toContain(path);
        expect(err.hint).toMatch(/close the other/);
        // The refused attempt must not have disturbed the open instance.
        expect((await first.query('SELECT "v" FROM "kept"')).rows).toEqual([{ v: 'still here' }]);
        await first.close();
        firstOpen = false;
        const again = await openTarget(`pglite://${path}`);
        try {
          expect((await again.query('SELECT "v" FROM "kept"')).rows).toEqual([{ v: 'still here' }]);
        } finally {
          await again.close();
        }
      } finally {
        if (firstOpen) await first.close();
      }
    } finally {
      dir.remove();
    }
  });

  it('reports a data dir that cannot be created as a ConnectionError', async () => {
    const dir = tempDir('sensei-pglite-');
    try {
      const file = join(dir.path, 'a-file');
      await (await import('node:fs/promises')).writeFile(file, 'not a directory');
      const target = new PgliteTarget({ dataDir: join(file, 'db') });
      await expect(target.connect()).rejects.toSatisfy(isConnectionError);
      // A failed open releases the dir in the registry.
      await expect(target.connect()).rejects.toSatisfy(
        (e: unknown) => isConnectionError(e) && !/already open/.test((e as Error).message),
      );
    } finally {
      dir.remove();
    }
  });

  it('throws instead of waiting forever when query() or transaction() is used inside its own transaction', async () => {
    const target = await openTarget('pglite://memory');
    try {
      await target.query('CREATE TABLE "t" ("x" int)');
      const inner = target.transaction(async (s) => {
        await s.query('INSERT INTO "t" VALUES (1)');
        await target.query('SELECT 1');
      });
      await expect(inner).rejects.toSatisfy(isConnectionError);
      const nested = target.transaction(() => target.transaction(async () => 1));
      await expect(nested).rejects.toSatisfy(isConnectionError);
      expect((await target.query('SELECT count(*) AS "n" FROM "t"')).rows).toEqual([{ n: '0' }]);
    } finally {
      await target.close();
    }
  });

  it('serialises concurrent transactions: one session at a time, both committed', async () => {
    const target = await openTarget('pglite://memory');
    try {
      await target.query('CREATE TABLE "log" ("who" text, "step" int)');
      const work = (who: string) =>
        target.transaction(async (s) => {
          for (let step = 0; step < 3; step++) {
            await s.query('INSERT INTO "log" VALUES ($1, $2)', [who, step]);
            await new Promise((r) => setTimeout(r, 5));
          }
        });
      await Promise.all([work('a'), work('b')]);
      const rows = (await target.query<{ who: string }>('SELECT "who" FROM "log" ORDER BY ctid')).rows.map((r) => r.who);
      expect([['a', 'a', 'a', 'b', 'b', 'b'], ['b', 'b', 'b', 'a', 'a', 'a']]).toContainEqual(rows);
    } finally {
      await target.close();
    }
  });
});
