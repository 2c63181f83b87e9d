// End-to-end: a party member's check-in, in the demo, on a phone. The
// member (already checked in, waiting) sees the state on their page; the
// branch secretary confirms it on the branch console; the member then has a
// receipt code and a printable receipt; anyone verifies the code on the
// public check page (a wrong code is refused); the employer contact sees the
// receipt among their unit's.
//
//   GONGZHI_BIN=target/debug/gongzhi node --test e2e/party.test.mjs   (or e2e/run.sh)

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startGongzhi, launchChromium, ARTIFACTS_DIR } from './harness.mjs';

const PASSWORD = 'gongzhi-demo';
const PHONE = { viewport: { width: 360, height: 800 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true, locale: 'zh-CN' };

describe('check-in → receipt → employer', () => {
  let app;
  let browser;

  before(async () => {
    app = await startGongzhi({ name: 'party', demo: true });
    browser = await launchChromium();
    await mkdir(ARTIFACTS_DIR, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  async function as(username) {
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(`${app.base}/login`);
    await page.fill('#username', username);
    await page.fill('#password', PASSWORD);
    await page.click('#login-submit');
    await page.waitForURL(`${app.base}/`);
    return { context, page };
  }

  async function fits(page, what) {
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(w <= 360, `${what} is ${w}px wide at 360`);
  }

  test('the branch confirms, the member gets a receipt, the employer sees it', async () => {
    // the member: waiting for the branch, no receipt yet
    const m = await as('member');
    await m.page.click('#menu a[data-key="menu.party"]');
    await m.page.waitForURL(`${app.base}/party`);
    assert.equal(await m.page.getAttribute('#checkin-state', 'data-state'), 'requested');
    assert.equal(await m.page.locator('#receipt-code').count(), 0);
    await fits(m.page, '/party');

    // the branch: confirms it from the console (the menu leads there)
    const b = await as('branch');
    await b.page.click('#menu a[data-key="menu.party_branch"]');
    await b.page.waitForSelector('#party-stats');
    await fits(b.page, 'the branch console');
    const before = await b.page.textContent('#stat-rate');
    assert.equal(await b.page.locator('#to-confirm li').count(), 1);
    await Promise.all([b.page.waitForURL(/done=confirmed/), b.page.click('#to-confirm button.confirm')]);
    assert.ok(await b.page.isVisible('#notice'));
    assert.equal(await b.page.locator('#to-confirm').count(), 0);
    assert.equal((await b.page.textContent('#stat-rate')).trim(), '100.0%', `the rate was ${before}`);
    await b.context.close();

    // the member: a receipt code and a printable receipt
    await m.page.reload();
    assert.equal(await m.page.getAttribute('#checkin-state', 'data-state'), 'confirmed');
    const code = (await m.page.textContent('#receipt-code')).trim();
    assert.match(code, /^[0-9A-HJKMNP-TV-Z]{8}$/);
    await m.page.click('#receipt-link');
    await m.page.waitForURL(`${app.base}/party/receipt`);
    assert.equal((await m.page.textContent('#receipt #receipt-code')).trim(), code);
    await m.page.screenshot({ path: join(ARTIFACTS_DIR, 'party-receipt.png') });
    await m.context.close();

    // anyone: the code checks out (typed in lowercase with a dash); a wrong one does not
    const anon = await browser.newContext(PHONE);
    const p = await anon.newPage();
    await p.goto(`${app.base}/check-in-receipts`);
    await p.fill('input[name=code]', `${code.slice(0, 4)}-${code.slice(4)}`.toLowerCase());
    await Promise.all([p.waitForURL(/code=/), p.click('#check-form button')]);
    assert.ok(await p.isVisible('#check-valid'));
    assert.match(await p.textContent('#check-valid'), /人社局家属院/);
    const wrong = code[0] === 'Z' ? `Y${code.slice(1)}` : `Z${code.slice(1)}`;
    const r = await p.goto(`${app.base}/check-in-receipts?code=${wrong}`);
    assert.equal(r.status(), 404);
    assert.ok(await p.isVisible('#check-unknown'));
    await anon.close();

    // the employer contact: the receipt among their unit's members'
    const e = await as('employer');
    await e.page.click('#menu a[data-key="menu.employer"]');
    await e.page.waitForURL(`${app.base}/party/employer`);
    assert.equal(await e.page.locator(`#employer-receipts li[data-code="${code}"]`).count(), 1);
    await fits(e.page, 'the employer page');
    await e.context.close();
  });
});
