// The certificate's row-hash file written table by table: canonical JSON text, its sha256, nothing left on failure.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../tools/certification/canonical-json.js';
import { openRowHashFile, type RowHashFile } from '../../tools/certification/row-hash-file.js';
import type { TargetRowHash } from '../../tools/verification/compare-capture.js';

describe('row-hash file writer', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sensei-rowhash-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const digest = (bucket: number, rows: number) => ({ bucket, rows, digest: `${bucket}`.padStart(32, 'a') });

  it('writes every table, digests before rows, as the canonical JSON of the file, and returns the sha256 of its bytes', async () => {
    const path = join(dir, 'run.rows.json.gz');
    const w = await openRowHashFile(path, 'run_"1"');
    const a = await w.addTable('orders', 2, async (onRows) => {
      await onRows([[0, '["1"]', '0123456789abcdef'], [0, '["3"]', '1123456789abcdef']]);
      await onRows([[1, '["2 \\"x\\""]', '2123456789abcdef']]);
      return { digests: [digest(0, 2), digest(1, 1)], root: 'r1' };
    });
    expect(a.root).toBe('r1');
    await w.addTable('empty', 1, async () => ({ digests: [] }));
    await w.addTable('tags', 1, async (onRows) => {
      await onRows([[0, '[]', 'ffffffffffffffff']]);
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
    const rows: TargetRowHash[] = [[0, '["1"]', '0123456789abcdef'], [0, '["3"]', '1123456789abcdef'], [1, '["2 \\"x\\""]', '2123456789abcdef']];
    expect(parsed).toEqual({
      format: 'sensei-row-hashes/1',
      run_id: 'run_"1"',
      tables: [
        { target: 'orders', buckets: 2, digests: [[0, 2, digest(0, 2).digest], [1, 1, digest(1, 1).digest]], rows },
        { target: 'empty', buckets: 1, digests: [], rows: [] },
        { target: 'tags', buckets: 1, digests: [[0, 1, digest(0, 1).digest]], rows: [[0, '[]', 'ffffffffffffffff']] },
      ],
    });
  });

  it('passes a failure while writing a table on to the caller and, aborted, leaves no file behind', async () => {
    const path = join(dir, 'run.rows.json.gz');
    const w = await openRowHashFile(path, 'run_1');
    await w.addTable('ok', 1, async (onRows) => {
      await onRows([[0, '["1"]', '0123456789abcdef']]);
      return { digests: [digest(0, 1)] };
    });
    const failing = w.addTable('broken', 1, async (onRows) => {
      await onRows([[0, '["1"]', '0123456789abcdef']]);
      throw new Error('target went away');
    });
    await expect(failing).rejects.toThrow('target went away');
    await w.abort();
    expect(readdirSync(dir)).toEqual([]);
  });
});
