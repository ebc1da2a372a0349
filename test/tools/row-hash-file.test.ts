// The certificate's row-hash file written table by table (canonical JSON text, its sha256, nothing left on failure)
// and read back as a stream, a bucket at a time, with a clear error naming a damaged file.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CertificateError } from '../../core/errors.js';
import { canonicalJson } from '../../tools/certification/canonical-json.js';
import { openRowHashFile, rowsJson, type RowHashFile } from '../../tools/certification/row-hash-file.js';
import { openRowHashReader, type RowHashBucket } from '../../tools/certification/row-hash-reader.js';
import type { TargetRowHash } from '../../tools/verification/compare-capture.js';
import { asFormat1 } from '../fixtures/row-hash-v1.js';

describe('row-hash file writer', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sensei-rowhash-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const digest = (bucket: number, rows: number) => ({ bucket, rows, digest: `${bucket}`.padStart(32, 'a') });
  // Row md5s as the writer is handed them: 32 hex digits.
  const md5Like = (c: string): string => `${c}123456789abcdef0123456789abcdef`;
  const [h0, h1, h2, hf] = [md5Like('0'), md5Like('1'), md5Like('2'), md5Like('f')];

  it('writes every table, digests before rows and each row with its full md5, as the canonical JSON of the file (format /2), and returns the sha256 of its bytes', async () => {
    const path = join(dir, 'run.rows.json.gz');
    const w = await openRowHashFile(path, 'run_"1"');
    const a = await w.addTable('orders', 2, async (onRows) => {
      await onRows([[0, '["1"]', h0], [0, '["3"]', h1]]);
      await onRows([[1, '["2 \\"x\\""]', h2]]);
      return { digests: [digest(0, 2), digest(1, 1)], root: 'r1' };
    });
    expect(a.root).toBe('r1');
    await w.addTable('empty', 1, async () => ({ digests: [] }));
    await w.addTable('tags', 1, async (onRows) => {
      await onRows([[0, '[]', hf]]);
      return { digests: [digest(0, 1)] };
    });
    const { sha256 } = await w.finish();

    const bytes = readFileSync(path);
    expect(sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['run.rows.json.gz']);
    const text = gunzipSync(bytes).toString('utf8');
    const parsed = JSON.parse(text) as RowHashFile;
    expect(text).toBe(canonicalJson(parsed));
    const rows: TargetRowHash[] = [[0, '["1"]', h0], [0, '["3"]', h1], [1, '["2 \\"x\\""]', h2]];
    expect(parsed).toEqual({
      format: 'sensei-row-hashes/2',
      run_id: 'run_"1"',
      tables: [
        { target: 'orders', buckets: 2, digests: [[0, 2, digest(0, 2).digest], [1, 1, digest(1, 1).digest]], rows },
        { target: 'empty', buckets: 1, digests: [], rows: [] },
        { target: 'tags', buckets: 1, digests: [[0, 1, digest(0, 1).digest]], rows: [[0, '[]', hf]] },
      ],
    });
  });

  it('writes each row as JSON.stringify does, for keys with quotes, backslashes, control characters, non-ASCII and lone surrogates', () => {
    const keys = ['["1"]', '["a\\"b"]', '["back\\\\slash"]', '["tab\\t"]', '["\u0001\u007f"]', '["é☃"]', '["😀"]', '["\ud800x"]', '[]', '', '["a","b c"]'];
    const rows: TargetRowHash[] = keys.map((k, i) => [i * 977, k, i % 2 === 0 ? h0 : hf]);
    const expected = rows.map((r) => JSON.stringify(r)).join(',');
    expect(rowsJson(rows, false).toString('utf8')).toBe(expected);
    expect(rowsJson(rows, true).toString('utf8')).toBe(`,${expected}`);
    expect(rowsJson([], true).length).toBe(0);
    // One long key among short ones: the buffer grows without losing what was written.
    const long: TargetRowHash[] = [[1, '["x"]', h1], [2, `["${'é'.repeat(5000)}"]`, h2], [3, '["y"]', h0]];
    expect(rowsJson(long, false).toString('utf8')).toBe(long.map((r) => JSON.stringify(r)).join(','));
  });

  it('lists tables filled at the same time in the order they were added, whichever finishes first', async () => {
    const path = join(dir, 'run.rows.json.gz');
    const w = await openRowHashFile(path, 'run_1');
    let releaseFirst!: () => void;
    const firstMayEnd = new Promise<void>((resolve) => (releaseFirst = resolve));
    const first = w.addTable('first', 1, async (onRows) => {
      await onRows([[0, '["1"]', h0]]);
      await firstMayEnd;
      await onRows([[0, '["2"]', h1]]);
      return { digests: [digest(0, 2)] };
    });
    const second = w.addTable('second', 1, async (onRows) => {
      await onRows([[0, '["9"]', hf]]);
      // The second table's rows are all in before the first's last row is.
      releaseFirst();
      return { digests: [digest(0, 1)] };
    });
    await Promise.all([first, second]);
    await w.finish();
    const parsed = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as RowHashFile;
    expect(parsed.tables.map((t) => [t.target, t.rows.map((r) => r[1])])).toEqual([
      ['first', ['["1"]', '["2"]']],
      ['second', ['["9"]']],
    ]);
    expect(readdirSync(dir)).toEqual(['run.rows.json.gz']);
  });

  it('passes a failure while writing a table on to the caller and, aborted, leaves no file behind', async () => {
    const path = join(dir, 'run.rows.json.gz');
    const w = await openRowHashFile(path, 'run_1');
    await w.addTable('ok', 1, async (onRows) => {
      await onRows([[0, '["1"]', h0]]);
      return { digests: [digest(0, 1)] };
    });
    const failing = w.addTable('broken', 1, async (onRows) => {
      await onRows([[0, '["1"]', h0]]);
      throw new Error('target went away');
    });
    await expect(failing).rejects.toThrow('target went away');
    await w.abort();
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('row-hash file reader', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sensei-rowhash-read-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // Keys that break a reader splitting on brackets or commas: quotes, backslashes, "],[", non-ASCII.
  const keyOf = (table: string, i: number): string => JSON.stringify([`${table} ${i}${i % 3 === 0 ? ' ],["x\\\\' : ''}${i % 5 === 0 ? ' é 漢' : ''}`]);
  const md5 = (text: string): string => createHash('md5').update(text).digest('hex');
  const hashOf = (table: string, i: number): string => md5(`${table}:${i}`);

  /** A table's rows as the writer gets them: sorted by bucket then hash, handed over in uneven chunks. */
  function tableRows(table: string, rows: number, buckets: number): TargetRowHash[] {
    const list: TargetRowHash[] = [];
    for (let i = 0; i < rows; i++) list.push([(i * 7919) % buckets, keyOf(table, i), hashOf(table, i)]);
    return list.sort((a, b) => a[0] - b[0] || (a[2] < b[2] ? -1 : 1));
  }

  async function writeFile(path: string, tables: Array<{ target: string; buckets: number; rows: TargetRowHash[] }>): Promise<void> {
    const w = await openRowHashFile(path, 'run_r');
    for (const t of tables) {
      await w.addTable(t.target, t.buckets, async (onRows) => {
        for (let i = 0; i < t.rows.length; i += 333) await onRows(t.rows.slice(i, i + 333));
        const digests = [...new Set(t.rows.map((r) => r[0]))].map((b) => ({ bucket: b, rows: t.rows.filter((r) => r[0] === b).length, digest: md5(`d${b}`) }));
        return { digests };
      });
    }
    await w.finish();
  }

  const grouped = (rows: TargetRowHash[]): RowHashBucket[] => {
    const out: RowHashBucket[] = [];
    for (const row of rows) {
      if (out.at(-1)?.bucket !== row[0]) out.push({ bucket: row[0], rows: [] });
      out.at(-1)!.rows.push(row);
    }
    return out;
  };

  const tables = [
    { target: 'alpha', buckets: 64, rows: tableRows('alpha', 6000, 64) },
    { target: 'empty', buckets: 1, rows: [] },
    { target: 'beta', buckets: 16, rows: tableRows('beta', 2500, 16) },
    { target: 'gamma "q"', buckets: 1, rows: tableRows('gamma', 3, 1) },
  ];

  it('hands out every table in file order, a bucket at a time, with its digests and name', async () => {
    const path = join(dir, 'run.rows.json.gz');
    await writeFile(path, tables);
    const reader = await openRowHashReader(path);
    expect(reader.runId).toBe('run_r');
    for (const t of tables) {
      const table = (await reader.nextTable())!;
      expect(table.buckets).toBe(t.buckets);
      expect(table.digests.map((d) => d.bucket)).toEqual(grouped(t.rows).map((g) => g.bucket));
      const got: RowHashBucket[] = [];
      for (let b = await table.nextBucket(); b; b = await table.nextBucket()) got.push(b);
      expect(got).toEqual(grouped(t.rows));
      expect(await table.nextBucket()).toBeNull();
      expect(await table.end()).toBe(t.target);
    }
    expect(await reader.nextTable()).toBeNull();
    reader.close();
  });

  it('skips what a caller leaves of a table and still finds the next one', async () => {
    const path = join(dir, 'run.rows.json.gz');
    await writeFile(path, tables);
    const reader = await openRowHashReader(path);
    const alpha = (await reader.nextTable())!;
    expect(await alpha.nextBucket()).toEqual(grouped(tables[0]!.rows)[0]);
    expect(await alpha.end()).toBe('alpha');
    expect(await (await reader.nextTable())!.end()).toBe('empty');
    const beta = (await reader.nextTable())!;
    expect(await beta.nextBucket()).toEqual(grouped(tables[2]!.rows)[0]);
    await expect(reader.nextTable()).rejects.toThrow(/end\(\) the table/);
    expect(await beta.end()).toBe('beta');
    expect(await (await reader.nextTable())!.end()).toBe('gamma "q"');
    expect(await reader.nextTable()).toBeNull();
    reader.close();
  });

  async function readAll(path: string): Promise<number> {
    const reader = await openRowHashReader(path);
    let rows = 0;
    try {
      for (let t = await reader.nextTable(); t; t = await reader.nextTable()) {
        for (let b = await t.nextBucket(); b; b = await t.nextBucket()) rows += b.rows.length;
        await t.end();
      }
    } finally {
      reader.close();
    }
    return rows;
  }

  /** Every table's name, its rows skipped unparsed. */
  async function skipAll(path: string): Promise<string[]> {
    const reader = await openRowHashReader(path);
    const names: string[] = [];
    try {
      for (let t = await reader.nextTable(); t; t = await reader.nextTable()) names.push(await t.end());
    } finally {
      reader.close();
    }
    return names;
  }

  it('names the file when it is truncated, not gzip, or damaged inside', async () => {
    const path = join(dir, 'run.rows.json.gz');
    await writeFile(path, tables);
    expect(await readAll(path)).toBe(6000 + 2500 + 3);
    expect(await skipAll(path)).toEqual(tables.map((t) => t.target));
    const bytes = readFileSync(path);

    const truncated = join(dir, 'truncated.rows.json.gz');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expect(readAll(truncated)).rejects.toThrow(new RegExp(`the row-hash file ${truncated} is truncated`));
    await expect(readAll(truncated)).rejects.toBeInstanceOf(CertificateError);
    await expect(skipAll(truncated)).rejects.toThrow(new RegExp(`the row-hash file ${truncated} is truncated`));

    const notGzip = join(dir, 'plain.rows.json.gz');
    writeFileSync(notGzip, gunzipSync(bytes));
    await expect(readAll(notGzip)).rejects.toThrow(new RegExp(`the row-hash file ${notGzip} is not a valid gzip file`));

    const missing = join(dir, 'nowhere.rows.json.gz');
    await expect(readAll(missing)).rejects.toThrow(`the row-hash file ${missing} does not exist`);

    // Valid gzip of text that is not the layout: a row out of bucket order, a row that is not a triple, junk after the end,
    // a row hash or bucket digest shorter than an md5 (a file claiming /2 with the 16 hex digits of /1).
    const text = gunzipSync(bytes).toString('utf8');
    const firstRow = text.indexOf('"rows":[[');
    const firstHash = /"([0-9a-f]{32})"\]/.exec(text.slice(firstRow))!;
    const shortHash = text.slice(0, firstRow) + text.slice(firstRow).replace(firstHash[0], `"${firstHash[1]!.slice(0, 16)}"]`);
    const firstDigest = /"digests":\[\[(\d+),(\d+),"([0-9a-f]{32})"/.exec(text)!;
    const shortDigest = text.replace(firstDigest[0], `"digests":[[${firstDigest[1]},${firstDigest[2]},"${firstDigest[3]!.slice(0, 16)}"`);
    const cases: Array<[string, string, RegExp]> = [
      ['order', text.replace('"rows":[[0,', '"rows":[[9,'), /rows are not in bucket order \(bucket 0 after 9/],
      ['range', text.replace('"rows":[[0,', '"rows":[[64,'), /a row is in bucket 64, outside the table's 64 buckets/],
      ['triple', text.replace('"rows":[[0,', '"rows":[[0,0,'), /a row is not \[bucket, key, rowHash\]/],
      ['junk', `${text}x`, /text follows the end of the JSON/],
      ['short row hash', shortHash, /a row's hash \(table 1 of the file, bucket 0\) is not 32 lower-case hex digits, as format sensei-row-hashes\/2 holds \(the row's full md5\)/],
      ['short digest', shortDigest, new RegExp(`the digest of bucket ${firstDigest[1]} is not an md5 \\(32 lower-case hex digits\\)`)],
      ['format type', text.replace('"sensei-row-hashes/2"', '2'), /its format is not a string/],
      ['cut text', text.slice(0, text.length - 40), /its text ends before the file does/],
      ['cut rows', text.slice(0, text.indexOf('"target":"beta"') - 300), /its text ends before the file does/],
    ];
    for (const [name, body, error] of cases) {
      const p = join(dir, `${name}.rows.json.gz`);
      writeFileSync(p, gzipSync(body));
      await expect(readAll(p), name).rejects.toThrow(error);
      await expect(readAll(p), name).rejects.toThrow(`the row-hash file ${p} is damaged`);
      if (name.startsWith('cut')) await expect(skipAll(p), name).rejects.toThrow(error);
    }

    // A format this Sensei does not know is not damage: the error says which formats it reads.
    const future = join(dir, 'future.rows.json.gz');
    writeFileSync(future, gzipSync(text.replace('sensei-row-hashes/2', 'sensei-row-hashes/9')));
    await expect(readAll(future)).rejects.toThrow(
      `the row-hash file ${future} has format "sensei-row-hashes/9", which this Sensei does not read (it reads sensei-row-hashes/1, sensei-row-hashes/2)`,
    );
    await expect(readAll(future)).rejects.toBeInstanceOf(CertificateError);
  });

  it('reads a format /1 file (the first 16 hex digits of each row\'s md5, as written before /2) and refuses one whose rows are longer', async () => {
    const path = join(dir, 'run.rows.json.gz');
    await writeFile(path, tables);
    const v1 = join(dir, 'v1.rows.json.gz');
    writeFileSync(v1, asFormat1(readFileSync(path)));
    const reader = await openRowHashReader(v1);
    expect([reader.format, reader.rowHashDigits]).toEqual(['sensei-row-hashes/1', 16]);
    for (const t of tables) {
      const table = (await reader.nextTable())!;
      const got: RowHashBucket[] = [];
      for (let b = await table.nextBucket(); b; b = await table.nextBucket()) got.push(b);
      expect(got).toEqual(grouped(t.rows.map(([b, k, h]) => [b, k, h.slice(0, 16)])));
      expect(await table.end()).toBe(t.target);
    }
    expect(await reader.nextTable()).toBeNull();
    reader.close();

    const mixed = join(dir, 'mixed.rows.json.gz');
    writeFileSync(mixed, gzipSync(gunzipSync(readFileSync(path)).toString('utf8').replace('sensei-row-hashes/2', 'sensei-row-hashes/1')));
    await expect(readAll(mixed)).rejects.toThrow(
      `the row-hash file ${mixed} is damaged: a row's hash (table 1 of the file, bucket 0) is not 16 lower-case hex digits, as format sensei-row-hashes/1 holds (the first 64 bits of the row's md5)`,
    );
  });
});

