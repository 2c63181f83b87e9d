// End-to-end: a matter's page in a phone-sized browser. An owner raises the
// matter with the htmx step form (the steps section is swapped in place, no
// page load), comments; the committee member triages and deliberates, and the
// owners' vote step is refused in place until 15 days have passed.
//
//   GONGZHI_BIN=target/debug/gongzhi node --test e2e/matters.test.mjs   (or e2e/run.sh)

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startGongzhi, apiLogin, placeByNames, launchChromium, FIXTURES_DIR, ARTIFACTS_DIR } from './harness.mjs';

const ROSTER = join(FIXTURES_DIR, 'roster.csv');
const ADMIN = { username: 'root', password: 'e2e-admin-password', admin: true };
const CAROL = { username: 'carol', password: 'e2e-carol-password' };
const DAVE = { username: 'dave', password: 'e2e-dave-password' };
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const TITLE = '1栋加装电梯';

describe('a matter page with the htmx step form', () => {
  let app;
  let browser;
  let matterId;
  let compoundId;

  before(async () => {
    app = await startGongzhi({ name: 'matters', users: [ADMIN, CAROL, DAVE], rosters: [ROSTER] });
    const admin = await apiLogin(app.base, ADMIN.username, ADMIN.password);
    const a = await placeByNames(admin, ['测试区', '测试街道', '和平社区', '阳光花园']);
    compoundId = a.id;
    await admin.post('/api/v1/grants', { username: CAROL.username, role: 'committee_member', place_id: a.id });
    await admin.post('/api/v1/grants', { username: DAVE.username, role: 'owner', place_id: a.id });
    const parts = (await admin.get(`/api/v1/places/${a.id}/parts`)).parts;
    const zhang = parts.find((p) => p.owner?.name === '张伟');
    const link = await admin.call('POST', `/api/v1/owners/${zhang.owner.id}/accounts`, { username: DAVE.username });
    assert.equal(link.status, 201, link.text);
    const carol = await apiLogin(app.base, CAROL.username, CAROL.password);
    const m = await carol.post('/api/v1/matters', { place_id: a.id, title: TITLE, procedure: 'seven_step' });
    matterId = m.id;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await app?.stop();
  });

  async function withPhone(user, fn) {
    const context = await browser.newContext({ locale: 'zh-CN', ...PHONE });
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

  const state = (page, key) => page.locator(`li[data-step="${key}"]`).getAttribute('data-state');

  test('the owner raises the matter in place and comments', async () => {
    await withPhone(DAVE, async (page) => {
      await page.goto(`${app.base}/places/${compoundId}/matters`);
      await page.locator('a.matter-link', { hasText: TITLE }).click();
      await page.waitForURL(`${app.base}/matters/${matterId}`);
      assert.equal(await state(page, 'raise'), 'current');
      assert.ok((await page.locator('li[data-step="raise"]').innerText()).includes('公开提事'));
      // A marker that a full page load would wipe: htmx swaps the section only.
      await page.evaluate(() => { window.__noReload = true; });
      await page.fill('#step-note', '电梯经常停运，老人上下楼困难');
      await page.locator('#step-submit').tap();
      await page.waitForSelector('#step-recorded');
      assert.equal(await page.evaluate(() => window.__noReload), true, 'no page load');
      assert.equal(await state(page, 'raise'), 'done');
      assert.equal(await state(page, 'triage'), 'current');
      assert.ok((await page.locator('li[data-step="raise"]').innerText()).includes('电梯经常停运'));
      assert.ok(await page.locator('#not-yours').isVisible(), 'an owner does not triage');
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= PHONE.viewport.width, `matter page is ${width}px wide`);
      await mkdir(ARTIFACTS_DIR, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS_DIR, 'matter-phone.png'), fullPage: true });

      await page.fill('#comment-body', '希望公开报价');
      await page.click('#comment-submit');
      await page.waitForSelector('text=希望公开报价');
    });
  });

  test('the committee moves it on; the vote step waits 15 days', async () => {
    await withPhone(CAROL, async (page) => {
      await page.goto(`${app.base}/matters/${matterId}`);
      for (const key of ['triage', 'deliberate']) {
        assert.equal(await state(page, key), 'current');
        await page.locator('#step-submit').tap();
        await page.waitForFunction((k) => document.querySelector(`li[data-step="${k}"]`)?.dataset.state === 'done', key);
      }
      assert.equal(await state(page, 'decide'), 'current');
      assert.ok(await page.locator('li[data-step="decide"] .earliest').isVisible(), 'the earliest time is shown');
      await page.locator('#step-submit').tap();
      await page.waitForSelector('#step-error');
      assert.match(await page.locator('#step-error').innerText(), /at least 15 days/);
      assert.equal(await state(page, 'decide'), 'current');
    });
  });
});
