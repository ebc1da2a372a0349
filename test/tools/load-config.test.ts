import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../tools/ingest/load-config.js';
import { tempDir } from '../fixtures/databases.js';

const dir = tempDir('sensei-config-');
afterAll(() => dir.remove());

describe('loadConfig', () => {
  it('reads YAML with defaults for the strategy and resolves the base directory', async () => {
    const path = join(dir.path, 'sensei.yaml');
    writeFileSync(path, 'source:\n  url: sqlite:legacy.db\ntarget:\n  url: pglite:out\n  schema: target.sql\nstrategy:\n  batch_size: 500\n');
    const loaded = await loadConfig(path);
    expect(loaded.baseDir).toBe(dir.path);
    expect(loaded.config.strategy).toEqual({ batch_size: 500, checkpoint_every: 100_000, auto_approve_above: 0.95, review_above: 0.8, concurrency: 2, error_policy: 'continue', max_retries: 5, retry_backoff_ms: 500, direct_copy: true });
    expect(loaded.config.target.schema).toBe('target.sql');
  });

  it('names every invalid field by its path', () => {
    expect(() => parseConfig({ source: { url: 'x' }, target: { url: 'y' }, strategy: { batch_size: -1, colour: 'red' } })).toThrow(
      /strategy\.batch_size[\s\S]*colour|colour[\s\S]*strategy\.batch_size/,
    );
    expect(() => parseConfig({ target: { url: 'y' } })).toThrow(/source/);
  });

  it('takes double_encoding as report, repair or a list of table.column, and names a bad entry', () => {
    const base = { source: { url: 'mysql://root@h/db' }, target: { url: 'pglite://memory' } };
    expect(parseConfig({ ...base, double_encoding: 'repair' }).double_encoding).toBe('repair');
    expect(parseConfig({ ...base, double_encoding: ['people.name'] }).double_encoding).toEqual(['people.name']);
    expect(() => parseConfig({ ...base, double_encoding: ['name'] })).toThrow(/double_encoding[\s\S]*table\.column/);
    expect(() => parseConfig({ ...base, double_encoding: 'fix' })).toThrow(/double_encoding/);
  });

  it('refuses an inline password and never repeats it', () => {
    let message = '';
    try {
      parseConfig({ source: { url: 'postgres://app:s3cr3t-pw@db.example/prod' }, target: { url: 'pglite://memory' } });
    } catch (e) {
      message = `${(e as Error).message} ${(e as { hint?: string }).hint ?? ''}`;
    }
    expect(message).toContain('source.url contains an inline password');
    expect(message).toContain('credentials: env://NAME');
    expect(message).not.toContain('s3cr3t-pw');
  });

  it('accepts references in url and credentials', () => {
    const c = parseConfig({ source: { url: 'env://SOURCE_URL' }, target: { type: 'postgres', host: 'h', database: 'd', user: 'u', credentials: 'env://PW' } });
    expect(c.source.url).toBe('env://SOURCE_URL');
  });

  it('rejects a review threshold above the auto-approval threshold', () => {
    expect(() => parseConfig({ source: { url: 'a' }, target: { url: 'b' }, strategy: { auto_approve_above: 0.7, review_above: 0.9 } })).toThrow(/review_above/);
  });

  it('says clearly when the file is missing or not YAML', async () => {
    await expect(loadConfig(join(dir.path, 'nope.yaml'))).rejects.toThrow(/cannot read the config file/);
    const bad = join(dir.path, 'bad.yaml');
    writeFileSync(bad, 'source: [unclosed');
    await expect(loadConfig(bad)).rejects.toThrow(/not valid YAML/);
  });
});
