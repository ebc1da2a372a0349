// End to end through the built CLI: MariaDB, SQLite and PostgreSQL sources into fresh PostgreSQL databases.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../fixtures/cli.js';
import { createMysqlDatabase, createPgDatabase, pgQuery, tempDir, type TempDatabase } from '../fixtures/databases.js';
import { libraryRows, loadLibraryMysql, loadLibraryPostgres, loadLibrarySqlite } from '../fixtures/library-source.js';
import { homeWithStore } from '../fixtures/store-template.js';

const expected = libraryRows();

interface Case {
  name: string;
  setup(dir: string): Promise<{ url: string; cleanup(): Promise<void> }>;
}

const cases: Case[] = [
  {
    name: 'MariaDB',
    async setup() {
      const db = await createMysqlDatabase();
      await loadLibraryMysql(db.url);
      return { url: db.url, cleanup: () => db.drop() };
    },
  },
  {
    name: 'SQLite',
    async setup(dir) {
      const path = join(dir, 'library.db');
      loadLibrarySqlite(path);
      return { url: `sqlite://${path}`, cleanup: async () => undefined };
    },
  },
  {
    name: 'PostgreSQL',
    async setup() {
      const db = await createPgDatabase('sensei_src');
      await loadLibraryPostgres(db.url);
      return { url: db.url, cleanup: () => db.drop() };
    },
  },
];

describe.each(cases)('sensei migrate from $name into a fresh PostgreSQL database', (c) => {
  const dir = tempDir('sensei-e2e-');
  let source: { url: string; cleanup(): Promise<void> };
  let target: TempDatabase;
  let result: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    source = await c.setup(dir.path);
    target = await createPgDatabase();
    writeFileSync(join(dir.path, 'sensei.yaml'), `source:\n  url: ${source.url}\ntarget:\n  url: ${target.url}\nstrategy:\n  batch_size: 25\n`);
    result = await runCli(['migrate', '-c', join(dir.path, 'sensei.yaml'), '--json'], { home: homeWithStore(join(dir.path, 'home')) });
  }, 120_000);

  afterAll(async () => {
    await source?.cleanup();
    await target?.drop();
    dir.remove();
  });

  it('completes with every row read written, per table', () => {
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect(result.json.status).toBe('completed');
    expect(result.json.tables).toEqual([
      { source: 'authors', target: 'authors', rows_read: expected.authors.length, rows_written: expected.authors.length, rows_errored: 0 },
      { source: 'books', target: 'books', rows_read: expected.books.length, rows_written: expected.books.length, rows_errored: 0 },
      { source: 'reviews', target: 'reviews', rows_read: expected.reviews.length, rows_written: expected.reviews.length, rows_errored: 0 },
    ]);
  });

  it('stores the same values: unicode, NULLs, decimals, dates, timestamps, escapes', async () => {
    const authors = await pgQuery(target.url, 'SELECT id::int AS id, name, country, born::text AS born FROM authors ORDER BY id');
    expect(authors).toEqual(expected.authors);
    const books = await pgQuery(target.url, 'SELECT id::int AS id, author_id::int AS author_id, title, price::text AS price, published_at::text AS published_at, isbn FROM books ORDER BY id');
    expect(books).toEqual(expected.books);
    const reviews = await pgQuery(target.url, 'SELECT book_id::int AS book_id, reviewer, stars::int AS stars, body FROM reviews ORDER BY book_id, reviewer');
    expect(reviews).toEqual(expected.reviews);
  });

  it('re-creates keys and foreign keys, and they resolve', async () => {
    const fks = await pgQuery<{ conrelid: string; def: string }>(
      target.url,
      "SELECT conrelid::regclass::text AS conrelid, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE contype = 'f' ORDER BY 1",
    );
    expect(fks).toEqual([
      { conrelid: 'books', def: 'FOREIGN KEY (author_id) REFERENCES authors(id)' },
      { conrelid: 'reviews', def: 'FOREIGN KEY (book_id) REFERENCES books(id)' },
    ]);
    const pks = await pgQuery<{ t: string; def: string }>(target.url, "SELECT conrelid::regclass::text AS t, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE contype IN ('p','u') AND connamespace = 'public'::regnamespace ORDER BY 1, 2");
    expect(pks).toEqual([
      { t: 'authors', def: 'PRIMARY KEY (id)' },
      { t: 'books', def: 'PRIMARY KEY (id)' },
      { t: 'books', def: 'UNIQUE (isbn)' },
      { t: 'reviews', def: 'PRIMARY KEY (book_id, reviewer)' },
    ]);
    // The foreign keys are enforced: an orphan insert fails.
    await expect(pgQuery(target.url, "INSERT INTO reviews VALUES (9999, 'x', 1, NULL)")).rejects.toThrow(/foreign key/);
  });

  it('issues a certificate that verifies, and one changed byte makes it fail', async () => {
    const path = result.json.certificate as string;
    const home = join(dir.path, 'home');
    const ok = await runCli(['certificate', 'verify', path], { home });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^valid/);
    const text = readFileSync(path, 'utf8');
    const cert = JSON.parse(text);
    expect(cert.payload.tables.map((t: { source: string }) => t.source)).toEqual(['authors', 'books', 'reviews']);
    expect(cert.payload.verification.passed).toBe(true);
    const at = text.indexOf('"rows_written":60') + '"rows_written":'.length;
    const tampered = join(dir.path, 'tampered.json');
    writeFileSync(tampered, `${text.slice(0, at)}7${text.slice(at + 1)}`);
    const bad = await runCli(['certificate', 'verify', tampered], { home });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/INVALID/);
    expect(bad.stdout).toMatch(/signature/);
  });
});
