// The web console's findings panel in headless Chromium: waive and revoke with a reason, live updates on another
// stakeholder's page, viewers read-only, and the server's refusals shown on the page.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reverifyRun } from '../../graph/reverify.js';
import { createSenseiServer, type SenseiServer } from '../../server/app.js';
import { launchChromium } from '../fixtures/chromium.js';
import { pgExec, tempDir, type TempDatabase } from '../fixtures/databases.js';
import { homeWithStore } from '../fixtures/store-template.js';
import { stakeholderTokens, WAIVER_FINDINGS, waiverRun } from '../fixtures/waiver-run.js';

interface FindingJson {
  id: string;
  code: string;
  path: string[];
  waiver: { id: number; approved_by: string; reason: string } | null;
}

describe('web console: findings and waivers', () => {
  const dir = tempDir('sensei-console-waivers-');
  let server: SenseiServer;
  let target: TempDatabase;
  let browser: Browser;
  let base: string;
  let stop: () => Promise<void>;
  let runId: string;
  let home: string;
  const tok: Record<string, string> = {};
  // The ids of the three findings, by the rule or query they come from.
  const id: Record<'books' | 'authors' | 'query', string> = { books: '', authors: '', query: '' };

  const rest = async (path: string, token: string, init: RequestInit = {}) => {
    const res = await server.app.request(path, { ...init, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as any };
  };
  const waivers = async () => (await rest(`/runs/${runId}/waivers`, tok.vic!)).body.waivers as Array<{ finding_id: string; approved_by: string; reason: string }>;

  /** A console page with the run open, its findings listed; `sent` collects what the page sent on its WebSocket. */
  const openConsole = async (token: string): Promise<{ page: Page; sent: Array<Record<string, unknown>> }> => {
    const page = await browser.newPage();
    const sent: Array<Record<string, unknown>> = [];
    page.on('websocket', (w) => w.on('framesent', (f) => sent.push(JSON.parse(String(f.payload)))));
    await page.goto(base);
    await page.fill('#token', token);
    await page.fill('#run', runId);
    await page.click('#open');
    await page.waitForSelector('#findings tbody tr');
    return { page, sent };
  };
  const row = (page: Page, findingId: string) => page.locator(`#findings tr[data-finding="${findingId}"]`);
  const waives = (sent: Array<Record<string, unknown>>) => sent.filter((m) => m.type === 'waive');

  beforeAll(async () => {
    // Launched first: a machine without Chromium fails here at once, saying so.
    browser = await launchChromium();
    const { config, target: t } = await waiverRun(dir.path, 'sensei_console_waivers');
    target = t;
    home = homeWithStore(join(dir.path, 'home'));
    server = await createSenseiServer({ home, baseDir: dir.path, patterns: { search: async () => [], record: async () => undefined } });
    Object.assign(tok, await stakeholderTokens(server.tokens, [['ada', 'admin'], ['vic', 'viewer'], ['bea', 'approver', ['books']]]));
    const result = await server.runtime.start(config, dir.path, { preApproved: true });
    runId = result.runId;
    expect(result.status).toBe('failed');
    const found = (await rest(`/runs/${runId}/findings`, tok.vic!)).body.findings as FindingJson[];
    for (const key of ['books', 'authors', 'query'] as const) id[key] = found.find((f) => f.path[1] === WAIVER_FINDINGS[key])?.id ?? '';
    expect(found).toHaveLength(3);
    const l = await server.listen(0);
    stop = l.close;
    base = `http://127.0.0.1:${l.port}`;
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await stop?.();
    await server?.close();
    await target?.drop();
    dir.remove();
  });

  it('lists the findings; a viewer gets no buttons, a scoped approver only for the findings of their tables', async () => {
    const { page: vic } = await openConsole(tok.vic!);
    await vic.waitForSelector('#findings tbody tr >> nth=2');
    expect(await vic.locator('#findings-summary').textContent()).toMatch(/^Verified .*: failed, 3 finding\(s\)$/);
    const cells = await row(vic, id.books).locator('td').allTextContents();
    expect(cells.slice(0, 3)).toEqual([id.books, 'rule_failed', 'rules › cheap books']);
    expect(cells[3]).toMatch(/cheap books/);
    expect(cells.slice(4)).toEqual(['not waived', '']);
    expect(await vic.locator('#findings button, #findings input').count()).toBe(0);
    expect(await vic.locator('#findings-note').textContent()).toBe('Read-only: your token may not waive these findings.');

    const { page: bea } = await openConsole(tok.bea!);
    await bea.waitForSelector('#findings tbody tr >> nth=2');
    expect(await bea.locator('#findings button.waive').count()).toBe(1);
    expect(await row(bea, id.books).locator('button.waive').count()).toBe(1);
    expect(await bea.locator('#findings-note').textContent()).toBe('');

    const { page: ada } = await openConsole(tok.ada!);
    await ada.waitForSelector('#findings tbody tr >> nth=2');
    expect(await ada.locator('#findings button.waive').count()).toBe(3);
    await Promise.all([vic.close(), bea.close(), ada.close()]);
  }, 60_000);

  it('a waiver needs a reason: an empty one is refused on the page and not sent; a too short one is refused by the server, shown', async () => {
    const { page, sent } = await openConsole(tok.bea!);
    const books = row(page, id.books);
    await books.locator('button.waive').click();
    expect(await page.locator('#findings-error').textContent()).toBe(`Give a reason to waive finding ${id.books} (required); nothing was sent.`);
    expect(await books.locator('input.reason').getAttribute('aria-invalid')).toBe('true');
    await books.locator('input.reason').fill('   ');
    await books.locator('button.waive').click();
    expect(await page.locator('#findings-error').textContent()).toBe(`Give a reason to waive finding ${id.books} (required); nothing was sent.`);
    expect(waives(sent)).toEqual([]);

    await books.locator('input.reason').fill('short');
    await books.locator('button.waive').click();
    await page.waitForSelector('#findings-error:has-text("nothing changed")');
    expect(await page.locator('#findings-error').textContent()).toBe(
      'the waiver is malformed: reason: give the reason in a sentence (at least 10 characters); nothing changed',
    );
    expect(waives(sent)).toEqual([{ type: 'waive', finding: id.books, reason: 'short' }]);
    expect(await waivers()).toEqual([]);
    // The list is fetched again and the button is usable, the reason still there to correct.
    await page.waitForSelector(`#findings tr[data-finding="${id.books}"] button.waive:not([disabled])`);
    expect(await books.locator('input.reason').inputValue()).toBe('short');
    await page.close();
  }, 60_000);

  it("waive from the console: approved by the token's stakeholder, another stakeholder's page shows it live; then revoke", async () => {
    const { page: vic } = await openConsole(tok.vic!);
    const { page: bea } = await openConsole(tok.bea!);
    const reason = 'prices are in cents in this legacy catalogue, ticket FIN-3';
    await row(bea, id.books).locator('input.reason').fill(reason);
    await row(bea, id.books).locator('button.waive').click();

    await vic.waitForSelector(`#findings tr.waived[data-finding="${id.books}"]`);
    const [waiver] = (await rest(`/runs/${runId}/waivers`, tok.vic!)).body.waivers as Array<{ id: number; finding_id: string; approved_by: string; reason: string }>;
    expect(await waivers()).toEqual([expect.objectContaining({ finding_id: id.books, approved_by: 'bea', reason })]);
    expect(await row(vic, id.books).locator('td.waiver').textContent()).toBe(`waived (#${waiver!.id}) by bea: ${reason}`);
    expect(await vic.locator('#findings button').count()).toBe(0);
    await bea.waitForSelector(`#findings tr.waived[data-finding="${id.books}"] button.revoke`);
    expect(await bea.locator('#findings-error').textContent()).toBe('');

    await row(bea, id.books).locator('button.revoke').click();
    await vic.waitForSelector(`#findings tr.unwaived[data-finding="${id.books}"]`);
    expect(await row(vic, id.books).locator('td.waiver').textContent()).toBe('not waived');
    expect(await waivers()).toEqual([]);
    await bea.waitForSelector(`#findings tr.unwaived[data-finding="${id.books}"] button.waive:not([disabled])`);
    const audit = (await rest(`/runs/${runId}/approvals`, tok.vic!)).body.approvals as Array<{ decision: string; by: string }>;
    expect(audit.filter((a) => a.decision !== 'approve').map((a) => [a.decision, a.by])).toEqual([
      ['waive', 'bea'],
      ['revoke_waiver', 'bea'],
    ]);
    await Promise.all([vic.close(), bea.close()]);
  }, 60_000);

  it('a refusal for a finding the latest verification no longer has is shown, and the list is fetched again', async () => {
    const { page, sent } = await openConsole(tok.ada!);
    await page.waitForSelector(`#findings tr[data-finding="${id.query}"] button.waive`);
    // Verified again behind the page's back, as `sensei verify` in another process does (nothing tells the page): one
    // book fewer in the target makes the replayed query agree.
    await pgExec(target.url, 'DELETE FROM reviews WHERE book_id = (SELECT max(id) FROM books); DELETE FROM books WHERE id = (SELECT max(id) FROM books)');
    await reverifyRun(server.runtime, home, runId, { certify: false });
    const now = (await rest(`/runs/${runId}/findings`, tok.vic!)).body.findings as FindingJson[];
    expect(now.map((f) => f.id)).not.toContain(id.query);

    await row(page, id.query).locator('input.reason').fill('the target query counts a sentinel row on purpose');
    await row(page, id.query).locator('button.waive').click();
    await page.waitForSelector('#findings-error:has-text("nothing changed")');
    expect(await page.locator('#findings-error').textContent()).toBe(
      `the latest verification of run ${runId} has no finding ${id.query}; list them with GET /runs/${runId}/findings (or "show findings" in the chat); nothing changed`,
    );
    expect(waives(sent)).toHaveLength(1);
    expect(await waivers()).toEqual([]);
    await page.waitForFunction(`!document.querySelector('#findings tr[data-finding="${id.query}"]')`);
    expect(await page.locator('#findings tbody tr').count()).toBe(now.length);
    // The server's refusal is in the chat log too, like every other error.
    expect(await page.locator('#chat .error').last().textContent()).toMatch(/has no finding/);
    await page.close();
  }, 120_000);

  it('a verification through POST /agents/verify refreshes the findings of the pages open on the run', async () => {
    const { page } = await openConsole(tok.vic!);
    const listed = async () => page.$$eval('#findings tbody tr', (rows) => rows.map((r) => r.getAttribute('data-finding') ?? '').sort());
    const findings = async () => ((await rest(`/runs/${runId}/findings`, tok.vic!)).body.findings as FindingJson[]).map((f) => f.id).sort();
    const before = await findings();
    await page.waitForFunction(`document.querySelectorAll('#findings tbody tr').length === ${before.length}`);
    // The replayed query counts the target's books: one fewer makes it agree, one more makes it disagree again.
    const had = before.includes(id.query);
    await pgExec(
      target.url,
      had
        ? 'DELETE FROM reviews WHERE book_id = (SELECT max(id) FROM books); DELETE FROM books WHERE id = (SELECT max(id) FROM books)'
        : "CREATE TEMP TABLE extra AS SELECT * FROM books WHERE id = (SELECT min(id) FROM books); UPDATE extra SET id = (SELECT max(id) + 1000 FROM books), isbn = 'isbn-extra'; INSERT INTO books SELECT * FROM extra",
    );
    expect((await rest('/agents/verify', tok.ada!, { method: 'POST', body: JSON.stringify({ run_id: runId }) })).status).toBe(200);
    const now = await findings();
    expect(now.includes(id.query)).toBe(!had);
    // Without a reload or a click: the server's status message made the page fetch the findings again.
    await page.waitForFunction(
      `${had ? '!' : ''}document.querySelector('#findings tr[data-finding="${id.query}"]') && document.querySelectorAll('#findings tbody tr').length === ${now.length}`,
    );
    expect(await listed()).toEqual(now);
    await page.close();
  }, 120_000);
});
