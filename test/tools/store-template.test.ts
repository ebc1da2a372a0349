// The store template: a home's first use unpacks the build's fresh store instead of running initdb; a template that is
// missing, damaged or made for other code is not used (the store is made with initdb, and the reason is told).
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../tools/store/sensei-store.js';
import { applyStoreMigrations, STORE_MIGRATIONS } from '../../tools/store/store-migrations.js';
import { checkStoreTemplate, currentStoreTemplateIdentity, defaultStoreTemplateDir, packStoreTemplate, unpackStoreTemplate, type StoreTemplateManifest } from '../../tools/store/store-template.js';
import { tempDir } from '../fixtures/databases.js';

const dir = tempDir('sensei-store-template-test-');
afterAll(() => dir.remove());
let n = 0;
const newHome = (): string => join(dir.path, `home-${++n}`);

/** Relative path → permission bits of everything under `root`. */
function modes(root: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      out.set(relative(root, p), statSync(p).mode & 0o777);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out;
}

async function systemIdentifier(store: { pool: { query: (q: string) => Promise<{ rows: Array<{ id: string }> }> } }): Promise<string> {
  const { rows } = await store.pool.query('SELECT system_identifier::text AS id FROM pg_control_system()');
  return rows[0]?.id as string;
}

/** A copy of the template at `from` whose manifest is changed by `edit` (and archive by `archive`, if given). */
function variant(from: string, name: string, edit: (m: StoreTemplateManifest) => void, archive?: (gz: Buffer) => Buffer): string {
  const to = join(dir.path, name);
  cpSync(from, to, { recursive: true });
  const m = JSON.parse(readFileSync(join(to, 'manifest.json'), 'utf8')) as StoreTemplateManifest;
  if (archive) {
    const gz = archive(readFileSync(join(to, m.archive)));
    writeFileSync(join(to, m.archive), gz);
  }
  edit(m);
  writeFileSync(join(to, 'manifest.json'), JSON.stringify(m));
  return to;
}

const resign = (m: StoreTemplateManifest, gz: Buffer): void => {
  m.sha256 = createHash('sha256').update(gz).digest('hex');
  m.bytes = gz.length;
};

// One store made with initdb (as the build does), packed as the template of every test below.
describe('store template', { timeout: 240_000 }, () => {
  let initdbHome: string;
  let initdbId: string;
  let template: string;
  let initdbNotices: string[];

  beforeAll(async () => {
    initdbHome = newHome();
    initdbNotices = [];
    const store = await openStore({ home: initdbHome, template: join(dir.path, 'absent-template'), onNotice: (m) => initdbNotices.push(m) });
    initdbId = await systemIdentifier(store);
    await store.close();
    template = join(dir.path, 'template');
    packStoreTemplate(join(initdbHome, 'store'), template);
    // initdb takes seconds of CPU: minutes of wall time on a loaded 2-core machine.
  }, 240_000);

  it('without a template makes the store with initdb and says why, naming where it looked', async () => {
    expect(initdbNotices).toEqual([
      `there is no store template at ${join(dir.path, 'absent-template')} (npm run build makes it); creating the embedded store with initdb instead, which takes several seconds and about 750 MB of memory once`,
    ]);
    expect(existsSync(join(initdbHome, 'store', 'PG_VERSION'))).toBe(true);
  });

  it('a first use from the template gives a working store: migrations current, pgvector search, checkpoint tables, same modes', async () => {
    const home = newHome();
    const notices: string[] = [];
    const store = await openStore({ home, template, onNotice: (m) => notices.push(m) });
    try {
      expect(notices).toEqual([]);
      expect(store.mode).toBe('embedded-server');
      // The template's database, not a new initdb: initdb draws a new system identifier each time.
      expect(await systemIdentifier(store)).toBe(initdbId);
      const { rows } = await store.pool.query<{ version: number }>('SELECT version FROM sensei_migrations ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual(STORE_MIGRATIONS.map((m) => m.version));
      expect(await applyStoreMigrations(store.pool)).toEqual([]);
      const vec = (f: (i: number) => number): string => `[${Array.from({ length: 128 }, (_, i) => f(i)).join(',')}]`;
      await store.pool.query(
        `INSERT INTO sensei_patterns (source_signature, target_signature, fingerprint, transformation) VALUES
         ('near', 't', $1::vector, 'x'), ('far', 't', $2::vector, 'x')`,
        [vec((i) => (i === 0 ? 1 : 0)), vec((i) => (i === 1 ? 1 : 0))],
      );
      const near = await store.pool.query<{ source_signature: string }>(
        'SELECT source_signature FROM sensei_patterns ORDER BY fingerprint <=> $1::vector LIMIT 1',
        [vec((i) => (i === 0 ? 0.9 : i === 1 ? 0.1 : 0))],
      );
      expect(near.rows[0]?.source_signature).toBe('near');
      const cp = await store.pool.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE tablename LIKE 'checkpoint%' ORDER BY tablename");
      expect(cp.rows.map((r) => r.tablename)).toEqual(['checkpoint_blobs', 'checkpoint_migrations', 'checkpoint_writes', 'checkpoints']);
      const config = { configurable: { thread_id: 'template-thread', checkpoint_ns: '' } };
      expect(await store.checkpointer.getTuple(config)).toBeUndefined();
    } finally {
      await store.close();
    }
    expect(statSync(home).mode & 0o777).toBe(0o700);
    // Every file and directory the template gave has the mode initdb gave it; nothing is left of the unpacking.
    const made = modes(join(home, 'store'));
    const byInitdb = modes(join(initdbHome, 'store'));
    const differing = [...made].filter(([p, m]) => byInitdb.has(p) && byInitdb.get(p) !== m);
    expect(differing).toEqual([]);
    expect(made.size).toBeGreaterThan(1000);
    expect(readdirSync(home).sort()).toEqual(['keys', 'store']);
  });

  it('accepts the template it packed and refuses one made for another store schema, PGlite, or format', async () => {
    expect('manifest' in (await checkStoreTemplate(template))).toBe(true);
    const current = currentStoreTemplateIdentity();
    const older = variant(template, 'older-schema', (m) => (m.storeSchema = current.storeSchema - 1));
    expect(await checkStoreTemplate(older)).toEqual({
      reason: `the store template at ${older} was made for storeSchema ${current.storeSchema - 1}, this Sensei has ${current.storeSchema}`,
    });
    const edited = variant(template, 'edited-migration', (m) => (m.storeMigrations = '0'.repeat(64)));
    expect(await checkStoreTemplate(edited)).toEqual({
      reason: `the store template at ${edited} was made for storeMigrations ${'0'.repeat(64)}, this Sensei has ${current.storeMigrations}`,
    });
    const pglite = variant(template, 'other-pglite', (m) => (m.pglite = '0.0.1'));
    expect(await checkStoreTemplate(pglite)).toEqual({ reason: `the store template at ${pglite} was made for pglite 0.0.1, this Sensei has ${current.pglite}` });
    const unreadable = join(dir.path, 'unreadable-manifest');
    mkdirSync(unreadable);
    writeFileSync(join(unreadable, 'manifest.json'), '{ not json');
    expect(((await checkStoreTemplate(unreadable)) as { reason: string }).reason).toMatch(/^the store template's manifest .*manifest\.json is unreadable/);
  });

  it('refuses a damaged archive before unpacking anything: the data dir stays absent', async () => {
    const flipped = variant(template, 'flipped-byte', () => undefined, (gz) => {
      const copy = Buffer.from(gz);
      copy[copy.length >> 1] = (copy[copy.length >> 1] as number) ^ 0xff;
      return copy;
    });
    const dataDir = join(newHome(), 'store');
    mkdirSync(join(dataDir, '..'), { mode: 0o700 });
    const r = await unpackStoreTemplate(flipped, dataDir);
    expect(r.unpacked).toBe(false);
    expect((r as { reason: string }).reason).toMatch(/^the store template's archive .*flipped-byte\/store\.tar\.gz is damaged \(\d+ bytes, sha256 [0-9a-f]{12}…; its manifest says \d+ bytes, [0-9a-f]{12}…\)$/);
    expect(existsSync(dataDir)).toBe(false);
    expect(await unpackStoreTemplate(join(dir.path, 'absent-template'), dataDir)).toEqual({
      unpacked: false,
      reason: `there is no store template at ${join(dir.path, 'absent-template')} (npm run build makes it)`,
    });
  });

  it('unpacks only into an absent or empty data dir, and leaves anything else as it was', async () => {
    const home = newHome();
    mkdirSync(join(home, 'store'), { recursive: true, mode: 0o700 });
    writeFileSync(join(home, 'store', 'left-by-hand'), 'x');
    expect(await unpackStoreTemplate(template, join(home, 'store'))).toEqual({
      unpacked: false,
      reason: `${join(home, 'store')} exists and is not an empty directory, so the store template is not unpacked there`,
    });
    expect(readdirSync(join(home, 'store'))).toEqual(['left-by-hand']);
    const empty = join(newHome(), 'store');
    mkdirSync(empty, { recursive: true });
    // A staging dir left by a process killed while unpacking is debris (the store lock is held): it is removed.
    mkdirSync(`${empty}.unpacking-1-deadbeef/base`, { recursive: true });
    expect(await unpackStoreTemplate(template, empty)).toEqual({ unpacked: true });
    expect(existsSync(join(empty, 'PG_VERSION'))).toBe(true);
    expect(readdirSync(join(empty, '..'))).toEqual(['store']);
  });

  it('is looked for in dist/store-template of the package, from the sources as from the build', () => {
    expect(defaultStoreTemplateDir()).toBe(join(import.meta.dirname, '..', '..', 'dist', 'store-template'));
  });

  it('an archive that matches its manifest but ends early or escapes the data dir leaves no data dir and no debris', async () => {
    // Truncated tar, gzipped and signed anew: only unpacking finds out.
    const truncated = variant(template, 'truncated', () => undefined, (gz) => gzipSync(gunzipSync(gz).subarray(0, 3 * 1024 * 1024)));
    const t = JSON.parse(readFileSync(join(truncated, 'manifest.json'), 'utf8')) as StoreTemplateManifest;
    resign(t, readFileSync(join(truncated, t.archive)));
    writeFileSync(join(truncated, 'manifest.json'), JSON.stringify(t));
    const home = newHome();
    mkdirSync(home, { mode: 0o700 });
    const r = await unpackStoreTemplate(truncated, join(home, 'store'));
    expect(r).toEqual({ unpacked: false, reason: `the store template ${join(truncated, 'store.tar.gz')} could not be unpacked into ${join(home, 'store')} (the archive ends early)` });
    expect(readdirSync(home)).toEqual([]);

    // Compressed data damaged after the manifest was signed: gunzip's error is the reason.
    const corrupt = variant(template, 'corrupt-gzip', () => undefined, (gz) => {
      const copy = Buffer.from(gz);
      for (let i = 1000; i < 1100; i++) copy[i] = (copy[i] as number) ^ 0x5a;
      return copy;
    });
    const c = JSON.parse(readFileSync(join(corrupt, 'manifest.json'), 'utf8')) as StoreTemplateManifest;
    resign(c, readFileSync(join(corrupt, c.archive)));
    writeFileSync(join(corrupt, 'manifest.json'), JSON.stringify(c));
    const rc = await unpackStoreTemplate(corrupt, join(home, 'store'));
    expect(rc.unpacked).toBe(false);
    expect((rc as { reason: string }).reason).toMatch(/could not be unpacked into .*home-\d+\/store \((invalid|incorrect|unknown|too many|header|unexpected end).*\)$/i);
    expect(readdirSync(home)).toEqual([]);

    // A header naming ../ (checksum made right): refused before anything is written outside.
    const header = Buffer.alloc(512);
    header.write('../escaped', 0, 'utf8');
    header.write('0000666\0', 100, 'ascii');
    header.write('0000000\0', 108, 'ascii');
    header.write('0000000\0', 116, 'ascii');
    header.write('00000000001\0', 124, 'ascii');
    header.write('00000000000\0', 136, 'ascii');
    header.write('0', 156, 'ascii');
    header.write('ustar\u000000', 257, 'ascii');
    header.fill(' ', 148, 156);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    const evil = variant(template, 'escaping', () => undefined, () => gzipSync(Buffer.concat([header, Buffer.alloc(512, 0x41), Buffer.alloc(1024)])));
    const e = JSON.parse(readFileSync(join(evil, 'manifest.json'), 'utf8')) as StoreTemplateManifest;
    resign(e, readFileSync(join(evil, e.archive)));
    writeFileSync(join(evil, 'manifest.json'), JSON.stringify(e));
    const r2 = await unpackStoreTemplate(evil, join(home, 'store'));
    expect(r2).toEqual({ unpacked: false, reason: `the store template ${join(evil, 'store.tar.gz')} could not be unpacked into ${join(home, 'store')} (the archive names a path outside the data dir: ../escaped)` });
    expect(existsSync(join(dir.path, 'escaped'))).toBe(false);
    expect(existsSync(join(home, 'escaped'))).toBe(false);
    expect(readdirSync(home)).toEqual([]);
  });

  it('through openStore, a template for another store schema is not used: initdb makes the store and the notice says why', async () => {
    const current = currentStoreTemplateIdentity();
    const older = variant(template, 'older-schema-open', (m) => (m.storeSchema = current.storeSchema - 1));
    const home = newHome();
    const notices: string[] = [];
    const store = await openStore({ home, template: older, onNotice: (m) => notices.push(m) });
    try {
      expect(notices).toEqual([
        `the store template at ${older} was made for storeSchema ${current.storeSchema - 1}, this Sensei has ${current.storeSchema}; creating the embedded store with initdb instead, which takes several seconds and about 750 MB of memory once`,
      ]);
      expect(await systemIdentifier(store)).not.toBe(initdbId);
      const { rows } = await store.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM sensei_migrations');
      expect(rows[0]?.n).toBe(STORE_MIGRATIONS.length);
    } finally {
      await store.close();
    }
  });
});
