// End-to-end: the pages of what used to be JSON only, on a phone (360×800).
// An owner opens their notifications from the menu (and marks them all read
// when some are unread), and a vote's public board from the vote page, where
// they look up a receipt code with the search form; no page is wider than
// the screen.
//
//   GONGZHI_BIN=target/debug/gongzhi node --test e2e/pages.test.mjs   (or e2e/run.sh)

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGongzhi, launchChromium } from './harness.mjs';

const PASSWORD = 'gongzhi-demo';
const SMALL = { viewport: { width: 360, height: 800 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true };

describe('notifications and the public board as pages, on a phone', () => {
  let app;
  let browser;
  let context;
  let page;

  before(async () => {
    app = await startGongzhi({ name: 'pages', demo: true });
    browser = await launchChromium();
    context = await browser.newContext({ ...SMALL, locale: 'zh-CN' });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(`${app.base}/login`);
    await page.fill('#username', 'owner');
    await page.fill('#password', PASSWORD);
    await page.click('#login-submit');
    await page.waitForURL(`${app.base}/`);
  });

  after(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await app?.stop();
  });

  const width = () => page.evaluate(() => document.documentElement.scrollWidth);

  test('notifications: from the menu, fits 360 px, mark all read', async () => {
    assert.equal(await page.getAttribute('#summary #unread', 'href'), '/notifications');
    await page.click('#menu a[data-key="menu.notifications"]');
    await page.waitForURL(`${app.base}/notifications`);
    assert.ok(await page.isVisible('h1'));
    assert.ok((await width()) <= 360, `notifications ${await width()}px`);
    if (await page.isVisible('#read-all')) {
      await page.click('#read-all button');
      await page.waitForURL(`${app.base}/notifications`);
    }
    assert.equal((await page.textContent('#unread-count')).trim(), '0');
    assert.equal(await page.locator('li.note.unread').count(), 0);
  });

  test('the public board: from the vote page, fits 360 px, finds a receipt code', async () => {
    await page.goto(`${app.base}/votes`);
    const vote = await page.getAttribute('a.vote-link', 'href');
    assert.ok(vote, 'the owner has a vote');
    await page.goto(`${app.base}${vote}`);
    await page.click('#board-link');
    await page.waitForURL(/\/votes\/[^/]+\/board$/);
    assert.ok((await width()) <= 360, `board ${await width()}px`);
    const codes = await page.$$eval('#board code.receipt', (cs) => cs.map((c) => c.textContent));
    const wanted = codes[0] || 'NOPE-0000';
    await page.fill('#receipt', wanted);
    await page.click('#receipt-search button');
    await page.waitForURL(/receipt=/);
    assert.ok(await page.isVisible('#search-result'));
    assert.deepEqual(await page.$$eval('#board code.receipt', (cs) => cs.map((c) => c.textContent)),
      codes.length ? [wanted] : []);
    assert.ok((await width()) <= 360, `board search ${await width()}px`);
  });
});
