// The store template: a fresh embedded store made at build time and unpacked into a new home instead of running initdb.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, createReadStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gzipSync } from 'node:zlib';
import { STORE_MIGRATIONS } from './store-migrations.js';

/**
 * What a data dir made by `openStore` depends on. A template whose identity differs from the running code's is not
 * used: another PGlite or pgvector may not read its files, and other migrations would give another schema.
 */
export interface StoreTemplateIdentity {
  /** Version of this file format (manifest and archive). */
  format: 1;
  /** `@electric-sql/pglite` version (PostgreSQL and its data dir format). */
  pglite: string;
  /** `@electric-sql/pglite-pgvector` version (the `vector` extension's objects in the catalog). */
  pgvector: string;
  /** `@langchain/langgraph-checkpoint-postgres` version (its checkpoint tables and their migrations). */
  checkpointPostgres: string;
  /** The highest store migration version (`sensei_migrations`). */
  storeSchema: number;
  /** sha256 of every store migration (version, name, SQL): a migration edited in place changes it too. */
  storeMigrations: string;
}

/** `manifest.json` of a template: its identity and what the archive must be. */
export interface StoreTemplateManifest extends StoreTemplateIdentity {
  /** The archive's file name, next to the manifest: a gzipped POSIX tar of the data dir. */
  archive: string;
  /** sha256 of the archive file (hex). */
  sha256: string;
  bytes: number;
  /** Regular files in the archive. */
  files: number;
}

/** The template's result: unpacked, or why not (the caller then creates the data dir with initdb). */
export type UnpackResult = { unpacked: true } | { unpacked: false; reason: string };

const MANIFEST = 'manifest.json';
const ARCHIVE = 'store.tar.gz';
const BLOCK = 512;

/**
 * Where the build puts the template: `dist/store-template` of the package, for the built code and for the sources
 * (tsx, vitest) alike, so that code run from source uses the template of the last build when it is still current.
 */
export function defaultStoreTemplateDir(): string {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  return basename(root) === 'dist' ? join(root, 'store-template') : join(root, 'dist', 'store-template');
}

/** The identity of the data dir the running code's `openStore` makes. */
export function currentStoreTemplateIdentity(): StoreTemplateIdentity {
  const migrations = createHash('sha256').update(JSON.stringify(STORE_MIGRATIONS.map((m) => [m.version, m.name, m.sql]))).digest('hex');
  return {
    format: 1,
    pglite: packageVersion('@electric-sql/pglite'),
    pgvector: packageVersion('@electric-sql/pglite-pgvector'),
    checkpointPostgres: packageVersion('@langchain/langgraph-checkpoint-postgres'),
    storeSchema: Math.max(...STORE_MIGRATIONS.map((m) => m.version)),
    storeMigrations: migrations,
  };
}

/** The version in a dependency's package.json, found upward from its entry point (its exports hide package.json). */
function packageVersion(name: string): string {
  let dir = dirname(createRequire(import.meta.url).resolve(name));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name && typeof pkg.version === 'string') return pkg.version;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json of ${name} above its entry point`);
    dir = up;
  }
}

/**
 * Pack the data dir `dataDir` (a store closed cleanly) into `templateDir` (created if missing): `store.tar.gz`, then
 * `manifest.json`, written last, so that a build interrupted in between leaves no manifest and no usable template.
 * Build time only: the archive is made in memory (about 40 MB before compression).
 */
export function packStoreTemplate(dataDir: string, templateDir: string): StoreTemplateManifest {
  mkdirSync(templateDir, { recursive: true });
  rmSync(join(templateDir, MANIFEST), { force: true });
  const blocks: Buffer[] = [];
  let files = 0;
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const rel = relative(dataDir, path).split(sep).join('/');
      const st = statSync(path);
      if (st.isDirectory()) {
        blocks.push(tarHeader(`${rel}/`, st.mode & 0o777, 0, '5'));
        walk(path);
      } else if (st.isFile()) {
        const data = readFileSync(path);
        blocks.push(tarHeader(rel, st.mode & 0o777, data.length, '0'), data, Buffer.alloc(padding(data.length)));
        files += 1;
      } else {
        throw new Error(`${path} is neither a file nor a directory: a store template holds only those`);
      }
    }
  };
  walk(dataDir);
  blocks.push(Buffer.alloc(2 * BLOCK));
  const archive = gzipSync(Buffer.concat(blocks), { level: 9 });
  writeFileSync(join(templateDir, ARCHIVE), archive);
  const manifest: StoreTemplateManifest = {
    ...currentStoreTemplateIdentity(),
    archive: ARCHIVE,
    sha256: createHash('sha256').update(archive).digest('hex'),
    bytes: archive.length,
    files,
  };
  writeFileSync(join(templateDir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/**
 * Whether `templateDir` holds a template the running code may use: a manifest of the current identity and an archive
 * of the size and sha256 it names. Returns the manifest, or why the template is not usable.
 */
export async function checkStoreTemplate(templateDir: string): Promise<{ manifest: StoreTemplateManifest } | { reason: string }> {
  const manifestPath = join(templateDir, MANIFEST);
  if (!existsSync(manifestPath)) return { reason: `there is no store template at ${templateDir} (npm run build makes it)` };
  let manifest: StoreTemplateManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as StoreTemplateManifest;
  } catch (e) {
    return { reason: `the store template's manifest ${manifestPath} is unreadable (${(e as Error).message})` };
  }
  const current = currentStoreTemplateIdentity();
  for (const key of Object.keys(current) as Array<keyof StoreTemplateIdentity>) {
    if (manifest[key] !== current[key]) {
      return { reason: `the store template at ${templateDir} was made for ${key} ${String(manifest[key])}, this Sensei has ${String(current[key])}` };
    }
  }
  if (typeof manifest.archive !== 'string' || manifest.archive.includes('/') || manifest.archive.includes(sep)) {
    return { reason: `the store template's manifest ${manifestPath} names no archive file` };
  }
  const archivePath = join(templateDir, manifest.archive);
  let sha256: string;
  let bytes: number;
  try {
    ({ sha256, bytes } = await digest(archivePath));
  } catch (e) {
    return { reason: `the store template's archive ${archivePath} is unreadable (${(e as Error).message})` };
  }
  if (bytes !== manifest.bytes || sha256 !== manifest.sha256) {
    return { reason: `the store template's archive ${archivePath} is damaged (${bytes} bytes, sha256 ${sha256.slice(0, 12)}…; its manifest says ${manifest.bytes} bytes, ${String(manifest.sha256).slice(0, 12)}…)` };
  }
  return { manifest };
}

/**
 * Give `dataDir` (absent, or an empty directory) the store of `templateDir`, checked first (`checkStoreTemplate`).
 * The archive is unpacked into a sibling directory, which is then renamed to `dataDir`: a crash or a damaged archive
 * never leaves a partial data dir. Directories are made as PGlite's initdb makes them (mode 0777 less the umask);
 * files get the mode PGlite gave them at build time. The caller holds the store lock. Never throws: a template that
 * cannot be used is reported as the reason.
 */
export async function unpackStoreTemplate(templateDir: string, dataDir: string): Promise<UnpackResult> {
  if (existsSync(dataDir) && !(statSync(dataDir).isDirectory() && readdirSync(dataDir).length === 0)) {
    return { unpacked: false, reason: `${dataDir} exists and is not an empty directory, so the store template is not unpacked there` };
  }
  let checked: Awaited<ReturnType<typeof checkStoreTemplate>>;
  try {
    checked = await checkStoreTemplate(templateDir);
  } catch (e) {
    return { unpacked: false, reason: `the store template at ${templateDir} cannot be checked (${(e as Error).message})` };
  }
  if ('reason' in checked) return { unpacked: false, reason: checked.reason };
  const { manifest } = checked;
  const home = dirname(dataDir);
  const prefix = `${basename(dataDir)}.unpacking-`;
  const staging = join(home, `${prefix}${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    // Left by a process killed while unpacking (the caller holds the lock, so no one is unpacking now).
    for (const name of readdirSync(home)) if (name.startsWith(prefix)) rmSync(join(home, name), { recursive: true, force: true });
    mkdirSync(staging);
    const files = await extractTarGz(join(templateDir, manifest.archive), staging);
    if (files !== manifest.files) throw new Error(`it holds ${files} files, its manifest says ${manifest.files}`);
    if (!existsSync(join(staging, 'PG_VERSION'))) throw new Error('it holds no PG_VERSION: not a data dir');
    renameSync(staging, dataDir);
    return { unpacked: true };
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    return { unpacked: false, reason: `the store template ${join(templateDir, manifest.archive)} could not be unpacked into ${dataDir} (${(e as Error).message})` };
  }
}

function digest(path: string): Promise<{ sha256: string; bytes: number }> {
  return new Promise((resolveDigest, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    createReadStream(path)
      .on('data', (chunk) => {
        hash.update(chunk);
        bytes += chunk.length;
      })
      .once('error', reject)
      .once('end', () => resolveDigest({ sha256: hash.digest('hex'), bytes }));
  });
}

const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;

/** A POSIX ustar header; names up to 100 bytes (a data dir's longest is about 30). */
function tarHeader(name: string, mode: number, size: number, type: '0' | '5'): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`${name} is longer than a tar name field (100 bytes)`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(`${mode.toString(8).padStart(7, '0')}\0`, 100, 8, 'ascii');
  h.write('0000000\0', 108, 8, 'ascii');
  h.write('0000000\0', 116, 8, 'ascii');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 12, 'ascii');
  h.write('00000000000\0', 136, 12, 'ascii');
  h.write(type, 156, 1, 'ascii');
  h.write('ustar\u000000', 257, 8, 'ascii');
  h.fill(' ', 148, 156);
  h.write(`${checksum(h).toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return h;
}

function checksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] as number);
  return sum;
}

const field = (h: Buffer, at: number, length: number): string => {
  const raw = h.subarray(at, at + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
};

const octal = (h: Buffer, at: number, length: number, what: string): number => {
  const text = field(h, at, length).trim();
  if (!/^[0-7]+$/.test(text)) throw new Error(`a tar header has no octal ${what}`);
  return parseInt(text, 8);
};

/**
 * Unpack a gzipped tar of regular files and directories (as `packStoreTemplate` writes it) into `dest`, streaming:
 * memory holds one chunk of the archive, never a whole file. Returns the number of files written.
 */
async function extractTarGz(archive: string, dest: string): Promise<number> {
  interface OpenFile {
    fd: number;
    path: string;
    mode: number;
    left: number;
    pad: number;
  }
  const state: { file: OpenFile | null; skip: number; files: number; ended: boolean } = { file: null, skip: 0, files: 0, ended: false };
  const finish = (f: OpenFile): void => {
    closeSync(f.fd);
    chmodSync(f.path, f.mode);
    state.files += 1;
    state.skip = f.pad;
    state.file = null;
  };
  /** Consume what it can of `pending`; returns the bytes it left (less than a header, or nothing). */
  const consume = (input: Buffer): Buffer => {
    let pending = input;
    while (!state.ended) {
      if (state.skip > 0) {
        const n = Math.min(state.skip, pending.length);
        state.skip -= n;
        pending = pending.subarray(n);
        if (state.skip > 0) break;
      }
      const file = state.file;
      if (file !== null) {
        const n = Math.min(file.left, pending.length);
        if (n > 0) writeSync(file.fd, pending, 0, n);
        file.left -= n;
        pending = pending.subarray(n);
        if (file.left > 0) break;
        finish(file);
        continue;
      }
      if (pending.length < BLOCK) break;
      const h = pending.subarray(0, BLOCK);
      pending = pending.subarray(BLOCK);
      if (h.every((b) => b === 0)) {
        state.ended = true;
        break;
      }
      if (octal(h, 148, 8, 'checksum') !== checksum(h)) throw new Error('a tar header fails its checksum');
      const name = field(h, 0, 100);
      const parts = name.split('/').filter((p) => p !== '');
      if (name.startsWith('/') || parts.length === 0 || parts.some((p) => p === '.' || p === '..')) {
        throw new Error(`the archive names a path outside the data dir: ${name}`);
      }
      const path = join(dest, ...parts);
      const type = field(h, 156, 1);
      const size = octal(h, 124, 12, 'size');
      if (type === '5') {
        mkdirSync(path, { recursive: true });
      } else if (type === '0' || type === '') {
        const opened: OpenFile = { fd: openSync(path, 'wx'), path, mode: octal(h, 100, 8, 'mode') & 0o777, left: size, pad: padding(size) };
        state.file = opened;
        if (size === 0) finish(opened);
      } else {
        throw new Error(`the archive holds ${name} of tar type ${JSON.stringify(type)}: only files and directories are expected`);
      }
    }
    return state.ended ? Buffer.alloc(0) : pending;
  };
  // pipeline's own rejection for a failing last stage is an AbortError: keep the stage's error to report it.
  let failure: unknown;
  try {
    // pipeline, not pipe: a read error of the archive reaches the loop instead of leaving it waiting. 256 KiB output
    // chunks: half the CPU of zlib's default 16 KiB here, for 256 KiB of memory.
    await pipeline(createReadStream(archive), createGunzip({ chunkSize: 256 * 1024 }), async (chunks: AsyncIterable<Buffer>) => {
      let pending: Buffer = Buffer.alloc(0);
      try {
        // Read to the end even after the tar's end blocks, so that gunzip checks the archive's CRC and length.
        for await (const chunk of chunks) if (!state.ended) pending = consume(pending.length === 0 ? chunk : Buffer.concat([pending, chunk]));
      } catch (e) {
        failure = e;
        throw e;
      }
    });
  } catch (e) {
    throw failure ?? e;
  } finally {
    if (state.file !== null) closeSync(state.file.fd);
  }
  if (!state.ended) throw new Error('the archive ends early');
  return state.files;
}
