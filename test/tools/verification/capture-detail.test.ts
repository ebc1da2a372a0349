// The capture detail spilled to disk, sealed: it gives back exactly the rows it was given (keys, hashes, order per
// bucket), the same bucket digests and the same stored detail as the rows held in memory, whatever the chunk size;
// its spill file is ciphertext in a private directory that goes when the detail is released or the process exits;
// a changed, truncated or missing spill file and an unwritable directory are errors naming the table. Kept as a file
// (how the capture store keeps it), it reads back the same rows; a damaged kept file is an error naming table and file.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureSpillError } from '../../../core/errors.js';
import { loadSecretBox } from '../../../tools/store/secret-box.js';
import { openStore } from '../../../tools/store/sensei-store.js';
import { CaptureDetail, readKeptDetail, sortedBuckets, type CaptureDetailOptions } from '../../../tools/verification/capture-detail.js';
import { detailRowsJson, rowsJson } from '../../../tools/certification/row-hash-file.js';
import { createCaptureStore } from '../../../tools/verification/capture-store.js';
import { bucketDigest, tableRoot } from '../../../tools/verification/row-digest.js';
import { detailEntries } from '../../fixtures/capture-detail.js';
import { tempDir } from '../../fixtures/databases.js';
import { homeWithStore } from '../../fixtures/store-template.js';

const dir = tempDir('sensei-capture-detail-');
afterAll(() => dir.remove());

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const KEYS = ['["1"]', '["é","😀"]', '["a\\"b","c\\\\d"]', '[]', `["${'x'.repeat(900)}"]`];

/** `count` rows over `buckets` buckets, and what an in-memory detail holds for them: per bucket `[key, md5]` in order. */
function rowsFor(count: number, buckets: number, bucketOf: (i: number) => number = (i) => parseInt(md5(`b${i}`).slice(0, 8), 16) & (buckets - 1)) {
  const rows: Array<[number, string, string]> = [];
  const expected = new Map<number, Array<[string, string]>>();
  for (let i = 0; i < count; i++) {
    const [b, h, key] = [bucketOf(i), md5(`row ${i}`), i % 7 === 0 ? KEYS[i % KEYS.length]! : `["${i}"]`];
    rows.push([b, h, key]);
    if (!expected.has(b)) expected.set(b, []);
    expected.get(b)!.push([key, h]);
  }
  const digests = [...expected.entries()].sort((a, b) => a[0] - b[0]).map(([bucket, list]) => ({ bucket, rows: list.length, digest: bucketDigest(list.map(([, h]) => h)) }));
  const entries = [...expected.entries()].sort((a, b) => a[0] - b[0]).map(([b, list]) => [b, list.map(([k, h]) => [k, h])] as [number, Array<[string, string]>]);
  return { rows, digests, entries };
}

function spilled(rows: Array<[number, string, string]>, options: CaptureDetailOptions = {}): CaptureDetail {
  const detail = new CaptureDetail({ table: 'customers', dir: dir.path, ...options });
  for (const [b, h, key] of rows) detail.add(b, h, key);
  return detail;
}

const spillDirs = (under = dir.path): string[] => readdirSync(under).filter((n) => n.startsWith('sensei-capture-'));
const SHAPE = { columns: [{ name: 'id', type: 'integer' }], key: ['id'] };

describe('capture detail spilled to disk', () => {
  it('returns every row as added, per bucket and in order, and the digests of the rows held in memory, chunk after chunk', async () => {
    // Bucket 3 gets 5,000 rows; 200-byte chunks make each partition many chunks.
    const order = [7, 3, 0, ...Array.from({ length: 5_000 }, () => 3), 7, 4095, 18];
    const { rows, digests, entries } = rowsFor(order.length, 4096, (i) => order[i]!);
    for (const chunkBytes of [200, undefined]) {
      const detail = spilled(rows, chunkBytes ? { chunkBytes } : {});
      expect(detail.size).toBe(5);
      expect(await detail.digests()).toEqual(digests);
      expect(await detailEntries(detail)).toEqual(entries);
      const some = await detail.select([3, 1, 4095]);
      expect([...some.entries()]).toEqual([[3, entries.find(([b]) => b === 3)![1]], [1, []], [4095, entries.find(([b]) => b === 4095)![1]]]);
      detail.release();
    }
  });

  it('at scale (4096 buckets, 256 partitions, many chunks each) gives the same digests, root and rows as in memory', async () => {
    const { rows, digests, entries } = rowsFor(200_000, 4096);
    const detail = spilled(rows);
    const got = await detail.digests();
    expect(got).toEqual(digests);
    expect(tableRoot(4096, got)).toBe(tableRoot(4096, digests));
    expect(await detailEntries(detail)).toEqual(entries);
    // ~33 bytes a row plus 28 per chunk: on disk, not in memory.
    expect(statSync(detail.spillFile!).size).toBeGreaterThan(200_000 * 30);
    detail.release();
  });

  it('stores the same detail per bucket in the capture store as the rows held in memory, as its kept spill file', async () => {
    const home = homeWithStore(join(dir.path, 'home'));
    const store = await openStore({ home });
    try {
      const captures = createCaptureStore(store.pool, loadSecretBox(home), home);
      expect(captures.dir).toBe(join(home, 'captures'));
      const { rows, digests, entries } = rowsFor(3_000, 512);
      const detail = spilled(rows, { chunkBytes: 1024, dir: captures.dir });
      const spill = (await detail.digests(), detail.spillFile!);
      const table = { source: 'customers', target: 'customers', shape: SHAPE, buckets: 512, rowsRead: 3_000, rowsExpected: 3_000, rowsExcluded: 0, digests, root: tableRoot(512, digests), stats: [] };
      await captures.saveTable('run-1', new Date().toISOString(), { ...table, detail });
      // Moved, not copied: the spill directory is gone and the detail released.
      expect(existsSync(spill)).toBe(false);
      expect(spillDirs(captures.dir)).toEqual([]);
      await expect(detail.digests()).rejects.toThrow('was released');
      expect(readdirSync(join(captures.dir, 'run-1'))).toEqual([expect.stringMatching(/^[0-9a-f]{32}\.detail$/)]);
      expect((await store.pool.query('SELECT 1 FROM sensei_capture_detail')).rows).toEqual([]);
      const all = Array.from({ length: 512 }, (_, b) => b);
      const stored = await captures.detail('run-1')(table, all);
      const byBucket = new Map(entries);
      expect(stored).toEqual(new Map(all.map((b) => [b, byBucket.get(b) ?? []])));
      // A partition at a time, from the kept file: the same rows per bucket.
      const partitions = await Promise.all(Array.from({ length: 32 }, (_, p) => captures.detailPartitions('run-1')(table, p)));
      const read = partitions.flatMap((plains) => {
        const { bytes, buckets } = sortedBuckets(plains!);
        return buckets.map((b) => [b.bucket, b.rows.length]);
      });
      expect(read).toEqual(entries.map(([b, list]) => [b, list.length]));
      expect(await captures.load('run-1')).toEqual({ capturedAt: expect.any(String), tables: [table] });
      // A table captured again replaces its file; an empty one leaves none.
      await captures.saveTable('run-1', new Date().toISOString(), { ...table, digests: [], detail: spilled([], { dir: captures.dir }) });
      expect(readdirSync(join(captures.dir, 'run-1'))).toEqual([]);
      expect(await captures.detail('run-1')(table, [0, 1])).toEqual(new Map([[0, []], [1, []]]));
    } finally {
      await store.close();
    }
  });

  it('reads a detail a partition at a time, sorted per bucket by row hash, as the row-hash file writes it (ties in the first bytes, a large bucket, keys with control characters)', async () => {
    // Hashes sharing their first 5 bytes (and equal ones) must still come out in full md5 order; bucket 20 holds more
    // rows than the packed sort takes (8,192) and is sorted the other way.
    const tie = (tail: string): string => `0123456789${tail.padStart(22, '0')}`;
    const rows: Array<[number, string, string]> = [
      [1, tie('f'), '["z"]'], [1, tie('a'), '["\u0001\t\u001f x"]'], [1, md5('q'), '["é😀"]'], [1, tie('a'), '["dup"]'], [1, tie('00b'), '["a\\"b"]'],
      [0, md5('zero'), '[]'], [17, md5('seventeen'), '["17"]'],
      ...Array.from({ length: 9_000 }, (_, i): [number, string, string] => [20, md5(`big ${i % 8_500}`), `["${i % 8_500}"]`]),
    ];
    const detail = spilled(rows, { chunkBytes: 300 });
    try {
      const expected = (bucket: number): Array<[number, string, string]> =>
        rows.filter(([b]) => b === bucket).map(([b, h, k]): [number, string, string] => [b, k, h]).sort((x, y) => (x[2] < y[2] ? -1 : x[2] > y[2] ? 1 : 0));
      const first = sortedBuckets(await detail.partition(0));
      expect(first.buckets.map((b) => [b.bucket, b.rows.length])).toEqual([[0, 1], [1, 5]]);
      const second = sortedBuckets(await detail.partition(1));
      expect(second.buckets.map((b) => [b.bucket, b.rows.length])).toEqual([[17, 1], [20, 9_000]]);
      for (const [{ bytes, buckets }, list] of [[first, [0, 1]], [second, [17, 20]]] as const) {
        for (const bucket of list) {
          const got = detailRowsJson(bytes, bucket, buckets.find((b) => b.bucket === bucket)!.rows);
          const want = expected(bucket);
          // Rows with equal hashes are equal rows in a capture; here two differ, so the order of those two is the stored one.
          expect(got.json.toString('utf8')).toBe(rowsJson(want, false).toString('utf8'));
          expect(got.digest).toBe(bucketDigest(want.map(([, , h]) => h)));
        }
      }
      expect(await detail.partition(5)).toEqual([]);
    } finally {
      detail.release();
    }
  });

  it('reads the detail of a capture stored before detail files (sealed rows per bucket)', async () => {
    const home = homeWithStore(join(dir.path, 'home-old'));
    const store = await openStore({ home });
    try {
      const box = loadSecretBox(home);
      const captures = createCaptureStore(store.pool, box, home);
      const ctx = (kind: string): string => `sensei_capture\u0000${kind}\u0000run-old\u0000orders`;
      const table = { source: 'orders', target: 'orders', shape: SHAPE, buckets: 2, rowsRead: 2, rowsExpected: 2, rowsExcluded: 0, digests: [], root: '', stats: [] };
      const rows: Array<[string, string]> = [['["1"]', md5('a').slice(0, 16)]];
      await store.pool.query('INSERT INTO sensei_captures (run_id, table_name, captured_at, summary) VALUES ($1, $2, now(), $3)', ['run-old', 'orders', box.seal(table, ctx('summary'))]);
      await store.pool.query('INSERT INTO sensei_capture_detail (run_id, table_name, bucket, detail) VALUES ($1, $2, 1, $3)', ['run-old', 'orders', box.seal(gzipSync(JSON.stringify(rows)), ctx('bucket:1'))]);
      expect(await captures.detail('run-old')(table, [0, 1])).toEqual(new Map([[0, []], [1, rows]]));
      // Not in the form a certificate reads a partition at a time: it hashes such a table in the target instead.
      expect(await captures.detailPartitions('run-old')(table, 0)).toBeNull();
      expect(await captures.purge(new Date(Date.now() + 60_000))).toEqual({ validationResults: 0, capturedTables: 1, captureBuckets: 1, captureFiles: 0 });
    } finally {
      await store.close();
    }
  });

  it('keeps a detail as a file that reads back the same rows, and names the table, file and chunk when it was changed, truncated or removed', async () => {
    const { rows, entries } = rowsFor(3_000, 64);
    const file = join(dir.path, 'kept', 'run-9', 'orders.detail');
    const keep = (): ReturnType<CaptureDetail['keep']> => spilled(rows, { chunkBytes: 2048 }).keep(file);
    const all = Array.from({ length: 64 }, (_, b) => b);
    const kept = keep();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(file)).mode & 0o777).toBe(0o700);
    expect(kept.bytes).toBe(statSync(file).size);
    expect(await readKeptDetail(kept, file, 'orders', all)).toEqual(new Map(entries));
    expect(spillDirs()).toEqual([]);
    const cases: Array<[(f: string) => void, RegExp]> = [
      [(f) => {
        const b = readFileSync(f);
        b[b.length >> 1]! ^= 0x01;
        writeFileSync(f, b);
      }, /^the stored captured rows of orders cannot be read: chunk \d+ of buckets \d+–\d+ in .+orders\.detail fails its AES-GCM authentication: it was changed after it was written$/],
      [(f) => truncateSync(f, statSync(f).size - 10), /^the stored captured rows of orders cannot be read: its file .+orders\.detail has \d+ bytes, not the \d+ written$/],
      [(f) => unlinkSync(f), /^the stored captured rows of orders cannot be read: its file .+orders\.detail cannot be opened \(ENOENT\)$/],
    ];
    for (const [spoil, message] of cases) {
      const k = keep();
      spoil(file);
      const err = await readKeptDetail(k, file, 'orders', all).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(CaptureSpillError);
      expect(err).toMatchObject({ code: 'CAPTURE_SPILL', message: expect.stringMatching(message), hint: expect.stringContaining('restore the file, or migrate again') });
    }
    // Another table's key does not open the file.
    const other = keep();
    await expect(readKeptDetail({ ...other, key: kept.key }, file, 'orders', [0])).rejects.toThrow(/fails its AES-GCM authentication/);
  });

  it('names the table and the file when the detail cannot be kept, and leaves no spill behind', () => {
    const blocker = join(dir.path, 'not-a-dir');
    writeFileSync(blocker, '');
    const detail = spilled(rowsFor(500, 16).rows, { chunkBytes: 512 });
    const err = (() => {
      try {
        detail.keep(join(blocker, 'run', 'orders.detail'));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(CaptureSpillError);
    expect(err).toMatchObject({ message: `could not keep the captured rows of customers at ${join(blocker, 'run', 'orders.detail')} (ENOTDIR)`, hint: expect.stringContaining('free space in the Sensei home') });
    expect(spillDirs()).toEqual([]);
    expect(() => detail.keep(join(dir.path, 'x.detail'))).toThrow('was released');
  });

  it('writes only ciphertext, in a private directory, and removes it when released', async () => {
    const secret = '["alice@example.com"]';
    const { rows } = rowsFor(2_000, 64);
    const detail = spilled([...rows, [5, md5('secret'), secret]], { chunkBytes: 4096 });
    await detail.digests();
    const file = detail.spillFile!;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(file)).mode & 0o777).toBe(0o700);
    const bytes = readFileSync(file);
    expect(bytes.length).toBeGreaterThan(2_000 * 20);
    expect(bytes.includes('alice@example.com')).toBe(false);
    expect(bytes.includes('["1000"]')).toBe(false);
    expect(bytes.includes(Buffer.from(md5('secret'), 'hex'))).toBe(false);
    expect(spillDirs()).toEqual([file.split('/').at(-2)]);
    detail.release();
    detail.release();
    expect(existsSync(dirname(file))).toBe(false);
    expect(spillDirs()).toEqual([]);
    await expect(detail.digests()).rejects.toThrow('the capture detail of customers was released');
  });

  it('writes nothing for a table without rows', async () => {
    const detail = spilled([]);
    expect(await detail.digests()).toEqual([]);
    expect(await detailEntries(detail)).toEqual([]);
    expect(detail.spillFile).toBeNull();
    detail.release();
  });

  it('adds the rows of row-digest lines as add does each, with keys of any length and script, and counts them', async () => {
    const order = [7, 3, 0, ...Array.from({ length: 3_000 }, (_, i) => i % 40), 7, 4095, 18];
    const { rows, digests, entries } = rowsFor(order.length, 4096, (i) => order[i]!);
    // A key far larger than a chunk, and one with multi-byte characters at a chunk's end.
    rows.push([3, md5('big'), `["${'é'.repeat(700)}"]`], [3, md5('last'), '["😀"]']);
    const byLines = new CaptureDetail({ table: 'customers', dir: dir.path, chunkBytes: 256 });
    const text = rows.map(([b, h, k]) => `${b} ${h} ${k}`).join('\n');
    // In two texts, as two batches come.
    const cut = text.indexOf('\n', 5_000);
    const first = text.slice(0, cut).split('\n').length;
    expect(byLines.addLines(text.slice(0, cut))).toBe(first);
    expect(byLines.addLines(text.slice(cut + 1))).toBe(rows.length - first);
    expect(byLines.addLines(null)).toBe(0);
    const one = spilled(rows, { chunkBytes: 256 });
    expect(await byLines.digests()).toEqual(await one.digests());
    expect(await detailEntries(byLines)).toEqual(await detailEntries(one));
    expect(byLines.size).toBe(one.size);
    expect(await byLines.digests()).toHaveLength(digests.length);
    expect((await detailEntries(byLines)).find(([b]) => b === 3)![1].slice(-2)).toEqual([[`["${'é'.repeat(700)}"]`, md5('big')], ['["😀"]', md5('last')]]);
    byLines.release();
    one.release();
  });

  it('refuses a digest line without a bucket number, with a bucket out of range or a row hash that is not lower-case md5', () => {
    const detail = new CaptureDetail({ table: 'orders', dir: dir.path });
    const h = md5('x');
    expect(() => detail.addLines(`1 ${h} ["1"]\n ${h} ["2"]`)).toThrow('line 2 of the row digests of orders does not start with a bucket number');
    expect(() => detail.addLines(`x1 ${h} ["1"]`)).toThrow('line 1 of the row digests of orders does not start with a bucket number');
    expect(() => detail.addLines(`70000 ${h} ["1"]`)).toThrow('bucket 70000 of orders is not an integer from 0 to 65535');
    expect(() => detail.addLines(`1 ${h.toUpperCase()} ["1"]`)).toThrow('not a lower-case md5 hex digest: a row hash of length 32');
    expect(() => detail.addLines(`1 ${h.slice(0, 16)} ["1"]`)).toThrow('not a lower-case md5 hex digest: a row hash of length 16');
    // Only the first line (accepted before the failure) was added.
    expect(detail.size).toBe(1);
    detail.release();
  });

  it('refuses a row hash that is not a lower-case md5 hex digest, and a bucket out of range', () => {
    const detail = new CaptureDetail({ dir: dir.path });
    expect(() => detail.add(0, 'Z'.repeat(32), '["1"]')).toThrow(/not a lower-case md5 hex digest/);
    expect(() => detail.add(70_000, md5('x'), '["1"]')).toThrow('bucket 70000 of table is not an integer from 0 to 65535');
    detail.release();
  });

  it('names the table and what to do when a spilled chunk was changed, truncated or removed', async () => {
    const { rows } = rowsFor(3_000, 64);
    const cases: Array<[string, (file: string) => void, RegExp]> = [
      ['changed', (f) => {
        const b = readFileSync(f);
        b[b.length >> 1]! ^= 0x01;
        writeFileSync(f, b);
      }, /^the captured rows of customers cannot be read back: chunk \d+ of buckets \d+–\d+ in .+ fails its AES-GCM authentication: it was changed after it was written$/],
      ['truncated', (f) => truncateSync(f, statSync(f).size - 10), /^the captured rows of customers cannot be read back: chunk \d+ of buckets 48–63 in .+ is truncated \(\d+ of \d+ bytes\)$/],
      ['removed', (f) => unlinkSync(f), /^the captured rows of customers cannot be read back: its spill file .+ cannot be opened \(ENOENT\)$/],
    ];
    for (const [, spoil, message] of cases) {
      const detail = spilled(rows, { chunkBytes: 2048 });
      expect(await detail.digests()).toHaveLength(64);
      spoil(detail.spillFile!);
      const err = await detail.digests().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(CaptureSpillError);
      expect(err).toMatchObject({ code: 'CAPTURE_SPILL', message: expect.stringMatching(message), hint: expect.stringContaining('capture the source again') });
      await expect(detailEntries(detail)).rejects.toThrow(CaptureSpillError);
      detail.release();
    }
    expect(spillDirs()).toEqual([]);
  });

  it('names the table and what to do when the spill directory cannot be written', () => {
    const detail = new CaptureDetail({ table: 'orders', dir: join(dir.path, 'missing'), chunkBytes: 100 });
    const add = (): void => {
      for (let i = 0; i < 10; i++) detail.add(1, md5(`${i}`), `["${i}"]`);
    };
    expect(add).toThrow(CaptureSpillError);
    expect(add).toThrow(new RegExp(`^could not write the capture spill file of orders under ${join(dir.path, 'missing')} \\(ENOENT\\)$`));
    try {
      add();
    } catch (e) {
      expect((e as CaptureSpillError).hint).toContain('set TMPDIR to a local directory with room');
    }
    detail.release();
  });

  it('leaves no spill directory behind when the process exits without releasing it', () => {
    const module = join(import.meta.dirname, '..', '..', '..', 'tools', 'verification', 'capture-detail.ts');
    const script = `
      const { CaptureDetail } = await import(${JSON.stringify(module)});
      const d = new CaptureDetail({ dir: ${JSON.stringify(dir.path)}, chunkBytes: 64 });
      for (let i = 0; i < 100; i++) d.add(i % 50, ${JSON.stringify(md5('x'))}, '["k' + i + '"]');
      await d.digests();
      console.log(d.spillFile);
      process.exit(3);`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.status).toBe(3);
    expect(child.stdout.trim()).toMatch(/sensei-capture-.+\/detail\.spill$/);
    expect(spillDirs()).toEqual([]);
  });
});
