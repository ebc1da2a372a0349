// The web console in headless Chromium: open a run, approve a flagged mapping in chat and one with a button, watch it finish.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSenseiServer, type SenseiServer } from '../../server/app.js';
import { verifyCertificateText } from '../../tools/certification/certificate-verifier.js';
import { libraryApprovalRun } from '../fixtures/approval-run.js';
import { launchChromium } from '../fixtures/chromium.js';
import { tempDir, type TempDatabase } from '../fixtures/databases.js';
import { homeWithStore } from '../fixtures/store-template.js';

describe('web console', () => {
  const dir = tempDir('sensei-console-');
  let server: SenseiServer;
  let target: TempDatabase;
  let browser: Browser;
  let base: string;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ target } = await libraryApprovalRun(dir.path));
    server = await createSenseiServer({ home: homeWithStore(join(dir.path, 'home')), baseDir: dir.path });
    const l = await server.listen(0);
    stop = l.close;
    base = `http://127.0.0.1:${l.port}`;
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stop?.();
    await server?.close();
    await target?.drop();
    dir.remove();
  });

  it('chat approval, button approval, live progress and the certificate download', async () => {
    const { token } = await server.tokens.create({ name: 'alice', role: 'approver' });
    const res = await fetch(`${base}/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ config: { source: { url: 'sqlite:library.db' }, target: { url: target.url, schema: 'target.sql' } } }),
    });
    const { run_id: runId } = (await res.json()) as { run_id: string };

    const page = await browser.newPage({ acceptDownloads: true });
    await page.goto(base);
    await page.fill('#token', token);
    await page.fill('#run', runId);
    await page.click('#open');
    // The run may still be planning when the page connects: the plan arrives when it is ready.
    await page.waitForSelector('#plan tr.explicit button.approve', { timeout: 120_000 });
    expect(await page.locator('#plan tr.explicit').count()).toBe(2);
    expect(await page.locator('#plan tr.auto').count()).toBeGreaterThan(10);

    await page.fill('#text', 'why is name low?');
    await page.press('#text', 'Enter');
    await page.waitForSelector('#chat .reply:has-text("authors.name → authors.full_name")');

    await page.fill('#text', 'approve authors.name');
    await page.press('#text', 'Enter');
    await page.waitForSelector('#chat .reply:has-text("Approved 1 mapping")');
    await page.waitForFunction("document.querySelectorAll('#plan tr.explicit').length === 1");
    expect(await page.locator('#plan tr.approved').count()).toBe(1);

    await page.click('#plan tr.explicit button.approve');
    await page.waitForFunction("document.getElementById('status').dataset.status === 'completed'", undefined, { timeout: 180_000 });
    // One line per table, in the order the tables started (the load takes the largest first).
    expect((await page.locator('#progress [data-stage="execute"]').allTextContents()).sort()).toEqual([
      expect.stringMatching(/^authors: 7 written, 0 queued of 7 ✓/),
      expect.stringMatching(/^books: 60 written, 0 queued of 60 ✓/),
      expect.stringMatching(/^reviews: \d+ written, 0 queued of \d+ ✓/),
    ]);
    expect(await page.locator('#progress [data-stage="capture"]').count()).toBe(3);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#certificate')]);
    const path = await download.path();
    expect(verifyCertificateText(readFileSync(path, 'utf8')).valid).toBe(true);
  }, 300_000);

  it('a bad token is refused with the policy code and the page says so', async () => {
    const page = await browser.newPage();
    await page.goto(base);
    await page.fill('#token', 'snsi_wrong');
    await page.fill('#run', 'run_x');
    await page.click('#open');
    await page.waitForSelector('#status:has-text("token refused")');
  }, 60_000);
});
