// End-to-end: a resident reports a problem, the steward works it from the
// queue, the resident verifies and rates it — in a real browser, through the
// server-rendered forms only.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGongzhi, apiLogin, placeByNames, launchChromium, FIXTURES_DIR } from './harness.mjs';

const ROSTER = join(FIXTURES_DIR, 'roster.csv');
const first = readFileSync(ROSTER, 'utf8').trim().split(/\r?\n/);
const cols = first[0].split(',');
const row = Object.fromEntries(first[1].split(',').map((v, i) => [cols[i], v]));

const ADMIN = { username: 'root', password: 'e2e-admin-password', admin: true };
const RESIDENT = { username: 'carol', password: 'e2e-carol-password' };
const STEWARD = { username: 'dave', password: 'e2e-dave-password' };
const TEXT = '3号楼电梯按钮失灵 e2e';

describe('cases: report → resolve → rate', () => {
  let app;
  let browser;

  before(async () => {
    app = await startGongzhi({ name: 'cases', users: [ADMIN, RESIDENT, STEWARD], rosters: [ROSTER] });
    const admin = await apiLogin(app.base, ADMIN.username, ADMIN.password);
    const a = await placeByNames(admin, [row.district, row.street, row.community, row.compound]);
    await admin.post('/api/v1/grants', { username: RESIDENT.username, role: 'resident', place_id: a.id });
    await admin.post('/api/v1/grants', { username: STEWARD.username, role: 'steward', place_id: a.id });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await app?.stop();
  });

  async function session(user) {
    const context = await browser.newContext({ locale: 'zh-CN' });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(`${app.base}/login`);
    await page.fill('#username', user.username);
    await page.fill('#password', user.password);
    await page.click('#login-submit');
    await page.waitForURL(`${app.base}/`);
    return { page, context };
  }

  const status = (page) => page.locator('#status').getAttribute('data-status');

  test('the whole life of a case through the pages', async () => {
    // The resident reports.
    const r = await session(RESIDENT);
    await r.page.click('#cases-link');
    await r.page.waitForURL(`${app.base}/cases`);
    await r.page.click('#report-link');
    await r.page.selectOption('#category', 'repair');
    await r.page.fill('#description', TEXT);
    await r.page.click('#report-submit');
    await r.page.waitForURL(/\/cases\/[0-9a-f-]{36}$/);
    const caseUrl = r.page.url();
    assert.equal(await status(r.page), 'reported');
    assert.equal(await r.page.locator('#description').innerText(), TEXT);
    assert.equal(await r.page.locator('#act-accept').count(), 0, 'a resident cannot accept');
    assert.equal(await r.page.locator('#timeline li').count(), 1);

    // The steward finds it in the queue and works it.
    const s = await session(STEWARD);
    await s.page.goto(`${app.base}/cases`);
    await s.page.click('a.queue-link');
    await s.page.waitForURL(/\/queue$/);
    const link = s.page.locator('#queue a.case-link', { hasText: TEXT.slice(0, 10) });
    assert.equal(await link.count(), 1, 'the case is in the steward queue');
    await link.click();
    await s.page.waitForURL(caseUrl);
    for (const [action, want] of [['accept', 'accepted'], ['assign', 'assigned'], ['start', 'in_progress']]) {
      await s.page.click(`#act-${action}`);
      await s.page.waitForURL(caseUrl);
      assert.equal(await status(s.page), want);
    }
    await s.page.fill('#note', '已更换按钮');
    await s.page.click('#act-resolve');
    await s.page.waitForURL(caseUrl);
    assert.equal(await status(s.page), 'resolved');

    // The resident was notified of each of the steward's four changes.
    await r.page.goto(`${app.base}/cases`);
    assert.equal(await r.page.locator('#unread-count').innerText(), '4');

    // The resident verifies; the steward closes; the resident rates once.
    await r.page.goto(caseUrl);
    assert.match(await r.page.locator('#timeline').innerText(), /已更换按钮/);
    await r.page.click('#act-verify');
    await r.page.waitForURL(caseUrl);
    assert.equal(await status(r.page), 'verified');
    await s.page.goto(caseUrl);
    await s.page.click('#act-close');
    await s.page.waitForURL(caseUrl);
    assert.equal(await status(s.page), 'closed');
    assert.equal(await s.page.locator('#rate').count(), 0, 'only the reporter rates');

    await r.page.goto(caseUrl);
    await r.page.selectOption('#stars', '5');
    await r.page.fill('#comment', '很快');
    await r.page.click('#rate-submit');
    await r.page.waitForURL(caseUrl);
    assert.match(await r.page.locator('#rating').innerText(), /5\/5/);
    assert.equal(await r.page.locator('#rate').count(), 0, 'rated once');
    assert.equal(await r.page.locator('#act-reopen').count(), 0, 'rated 5: no reopening');
    const kinds = await r.page.locator('#timeline li').evaluateAll((ls) => ls.map((l) => l.dataset.kind));
    assert.deepEqual(kinds, ['reported', 'accepted', 'assigned', 'started', 'resolved', 'verified', 'closed', 'rated']);

    // My cases lists it as closed.
    await r.page.goto(`${app.base}/cases`);
    assert.equal(await r.page.locator('#my-cases tbody tr').count(), 1);
    await r.context.close();
    await s.context.close();
  });
});
