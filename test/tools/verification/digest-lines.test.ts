// The capture reads its row digests as one text per batch (`rowDigestLinesSql`); verification builds the keys of the
// target's rows with JSON.stringify. Both must write every key byte for byte alike, or a row would look changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetConnector } from '../../../connectors/connector.js';
import { openTarget } from '../../../connectors/open-target.js';
import { readDigestLines, rowDigestLinesSql, rowDigestsSql, type DigestShape } from '../../../tools/verification/row-digest.js';
import { createPgDatabase, pgExec, type TempDatabase } from '../../fixtures/databases.js';

describe('row digests as lines', () => {
  let db: TempDatabase;
  let target: TargetConnector;
  // Every code point but U+0000 and the surrogates, in runs of 512, plus quotes, backslashes, controls and NULL.
  const awkward: Array<string | null> = [];
  for (let cp = 1; cp < 0x11000; cp += 512) {
    let s = '';
    for (let c = cp; c < cp + 512 && c < 0x11000; c++) if (c < 0xd800 || c >= 0xe000) s += String.fromCodePoint(c);
    awkward.push(s);
  }
  awkward.push('a"b\\c', 'tab\tnew\nline\r', '\u2028\u2029', '😀 été', '', ' lead and trail ', null);

  beforeAll(async () => {
    db = await createPgDatabase('sensei_digestlines');
    await pgExec(db.url, 'CREATE TABLE t (id integer, label text, note text)');
    target = await openTarget(db.url);
    await target.query('INSERT INTO t SELECT i, l, CASE WHEN i % 2 = 0 THEN l END FROM unnest($1::text[]) WITH ORDINALITY AS u(l, i)', [awkward]);
  });

  afterAll(async () => {
    await target?.close();
    await db?.drop();
  });

  const shapes: Array<[string, DigestShape]> = [
    ['a two-column key', { columns: [{ name: 'id', type: 'integer' }, { name: 'label', type: 'text' }, { name: 'note', type: 'text' }], key: ['label', 'id'] }],
    ['no key', { columns: [{ name: 'id', type: 'integer' }, { name: 'label', type: 'text' }], key: [] }],
  ];

  it.each(shapes)('gives the rows of rowDigestsSql, in scan order, with keys as JSON.stringify writes them (%s)', async (_name, shape) => {
    const rows = await target.query<Record<string, string | null>>(rowDigestsSql(shape, 8, 'public."t" AS t'));
    const expected = rows.rows.map((r) => [Number(r.b), r.h, JSON.stringify(shape.key.map((_, i) => r[`k${i}`] ?? null))]);
    const res = await target.query<{ lines: string | null }>(rowDigestLinesSql(shape, 8, 'public."t" AS t'));
    const read: Array<[number, string, string]> = [];
    readDigestLines(res.rows[0]!.lines, (b, h, key) => read.push([b, h, key]));
    expect(read).toHaveLength(awkward.length);
    expect(read).toEqual(expected);
  });

  it('reads nothing from an empty table', async () => {
    const res = await target.query<{ lines: string | null }>(rowDigestLinesSql(shapes[0]![1], 8, 'public."t" AS t WHERE false'));
    const read: unknown[] = [];
    readDigestLines(res.rows[0]!.lines, (...row) => read.push(row));
    expect(res.rows[0]!.lines).toBeNull();
    expect(read).toEqual([]);
  });
});
