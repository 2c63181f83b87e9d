// End-to-end: moving money takes two parties. The steward records fee income
// and requests a repair through the API; on the approval-queue page a
// committee member (A) approves — and cannot approve a second time — and a
// supervisor (B) approves; an owner then sees the paid expense on the
// compound's public books board.
//
//   GONGZHI_BIN=target/debug/gongzhi node --test e2e/fund.test.mjs   (or e2e/run.sh)

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startGongzhi, apiLogin, placeByNames, launchChromium, FIXTURES_DIR, ARTIFACTS_DIR } from './harness.mjs';

const ROSTER = join(FIXTURES_DIR, 'roster.csv');
const ADMIN = { username: 'root', password: 'e2e-admin-password', admin: true };
const STEWARD = { username: 'sam', password: 'e2e-sam-password' };
const A = { username: 'amy', password: 'e2e-amy-password' };
const B = { username: 'ben', password: 'e2e-ben-password' };
const OWNER = { username: 'olga', password: 'e2e-olga-password' };
const PURPOSE = '3栋楼道灯泡更换';

describe('two people approve a disbursement, an owner sees it', () => {
  let app;
  let browser;
  let code;
  let id;

  before(async () => {
    app = await startGongzhi({ name: 'fund', users: [ADMIN, STEWARD, A, B, OWNER], rosters: [ROSTER] });
    const admin = await apiLogin(app.base, ADMIN.username, ADMIN.password);
    const c = await placeByNames(admin, ['测试区', '测试街道', '和平社区', '阳光花园']);
    code = c.code;
    assert.ok(code, 'the compound has a code');
    for (const [u, role] of [[STEWARD, 'steward'], [A, 'committee_member'], [B, 'supervisor'], [OWNER, 'owner']]) {
      await admin.post('/api/v1/grants', { username: u.username, role, place_id: c.id });
    }
    const fee = await stewardPost(app.base, STEWARD, `/api/v1/compounds/${code}/books/transfers`, 'fee-1',
      { debit: 'bank', credit: 'fee_income', amount: '1000.00', code: 'fee', memo: '2026-01 fees' });
    assert.equal(fee.status, 201, fee.text);
    const d = await stewardPost(app.base, STEWARD, `/api/v1/compounds/${code}/books/disbursements`, 'bulb-1',
      { purpose: PURPOSE, payee: '三峡电器', amount: '35.00', category: 'expense_repair', documents: ['发票 0042'] });
    assert.equal(d.status, 201, d.text);
    id = d.json.disbursement.id;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await app?.stop();
  });

  async function asUser(user, fn, options = {}) {
    const context = await browser.newContext({ locale: 'zh-CN', ...options });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    try {
      await page.goto(`${app.base}/login`);
      await page.fill('#username', user.username);
      await page.fill('#password', user.password);
      await page.click('#login-submit');
      await page.waitForURL(`${app.base}/`);
      return await fn(page);
    } finally {
      await context.close();
    }
  }

  const row = (page) => page.locator(`#d-${id}`);

  test('the approval queue on a phone (360×800): a card whose buttons are in view', async () => {
    await asUser(A, async (page) => {
      await page.goto(`${app.base}/compounds/${code}/books/queue`);
      for (const button of ['button.approve', 'button.void']) {
        const box = await row(page).locator(button).boundingBox();
        assert.ok(box, `${button} is shown`);
        assert.ok(box.x >= 0 && box.x + box.width <= 360, `${button} at ${box.x}+${box.width}px`);
      }
      assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 360);
      await mkdir(ARTIFACTS_DIR, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS_DIR, 'queue-360.png') });
    }, { viewport: { width: 360, height: 800 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
  });

  test('A approves once (not twice), B approves, an owner sees the expense', async () => {
    await asUser(A, async (page) => {
      await page.goto(`${app.base}/compounds/${code}/books/queue`);
      assert.equal(await row(page).getAttribute('data-state'), 'requested');
      assert.match(await row(page).locator('.purpose').innerText(), new RegExp(PURPOSE));
      await row(page).locator('button.approve').click();
      await page.waitForSelector(`#d-${id}[data-state="pending"]`);
      assert.match(await row(page).locator('.approvals').innerText(), /amy \((?:业委会委员|Owners' committee member)\)/);
      // A cannot approve a second time: the row says why and stays pending.
      await row(page).locator('button.approve').click();
      await page.waitForSelector(`#d-${id} [role="alert"]`);
      assert.match(await row(page).locator('[role="alert"]').innerText(), /different person/);
      assert.equal(await row(page).getAttribute('data-state'), 'pending');
      await mkdir(ARTIFACTS_DIR, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS_DIR, 'fund-queue.png'), fullPage: true });
    });
    // Funds are reserved, nothing paid yet.
    const before = await (await fetch(`${app.base}/api/v1/public/compounds/${code}/books/accounts`)).json();
    const bank = before.accounts.find((a) => a.code === 'bank');
    assert.equal(bank.posted, 100000);
    assert.equal(bank.available, 100000 - 3500);

    await asUser(B, async (page) => {
      await page.goto(`${app.base}/compounds/${code}/books/queue`);
      await row(page).locator('button.approve').click();
      await page.waitForSelector(`#d-${id}[data-state="posted"]`);
      assert.match(await row(page).locator('.approvals').innerText(), /amy \((?:业委会委员|Owners' committee member)\) \+ ben \((?:监督人|Supervisor)\)/);
      assert.equal(await row(page).locator('button.approve').count(), 0);
    });

    await asUser(OWNER, async (page) => {
      // an owner holds no approver role: the queue is not theirs
      const q = await page.goto(`${app.base}/compounds/${code}/books/queue`);
      assert.equal(q.status(), 403);
      await page.goto(`${app.base}/compounds/${code}/books`);
      const paid = page.locator('#disbursements tr[data-state="posted"]');
      assert.equal(await paid.count(), 1);
      const text = await paid.innerText();
      assert.match(text, new RegExp(PURPOSE));
      assert.match(text, /35\.00/);
      assert.match(text, /(?:业委会委员|Owners' committee member) \+ (?:监督人|Supervisor)/);
      assert.ok(!text.includes('amy') && !text.includes('ben'), 'the public board names roles, not people');
      const bankRow = page.locator('#balances tr[data-account="bank"]');
      assert.match(await bankRow.innerText(), /965\.00/);
    });
  });
});

/** POST with the steward's session and an Idempotency-Key. */
async function stewardPost(base, user, path, key, body) {
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user.username, password: user.password }),
  });
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('gz_session='));
  const r = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, text };
}
