// End-to-end: an owner votes from a phone-sized screen. A committee member
// creates and opens a vote over compound A through the API; the owner (whose
// account the office linked to their owner of record) finds it, sees the live
// turnout, votes yes, changes to no, and after close sees the result; a
// stranger is refused.
//
//   GONGZHI_BIN=target/debug/gongzhi node --test e2e/votes.test.mjs   (or e2e/run.sh)

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startGongzhi, apiLogin, placeByNames, launchChromium, FIXTURES_DIR, ARTIFACTS_DIR } from './harness.mjs';

const ROSTER = join(FIXTURES_DIR, 'roster.csv');
const ADMIN = { username: 'root', password: 'e2e-admin-password', admin: true };
const CAROL = { username: 'carol', password: 'e2e-carol-password' };
const DAVE = { username: 'dave', password: 'e2e-dave-password' };
const ERIN = { username: 'erin', password: 'e2e-erin-password' };
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const TITLE = '是否同意续聘物业服务企业';

describe('owner votes from a phone', () => {
  let app;
  let browser;
  let voteId;
  let carol;

  before(async () => {
    app = await startGongzhi({ name: 'votes', users: [ADMIN, CAROL, DAVE, ERIN], rosters: [ROSTER] });
    const admin = await apiLogin(app.base, ADMIN.username, ADMIN.password);
    const a = await placeByNames(admin, ['测试区', '测试街道', '和平社区', '阳光花园']);
    await admin.post('/api/v1/grants', { username: CAROL.username, role: 'committee_member', place_id: a.id });
    await admin.post('/api/v1/grants', { username: DAVE.username, role: 'owner', place_id: a.id });
    const parts = (await admin.get(`/api/v1/places/${a.id}/parts`)).parts;
    const zhang = parts.find((p) => p.owner?.name === '张伟');
    assert.ok(zhang, '张伟 owns a part of 阳光花园');
    const link = await admin.call('POST', `/api/v1/owners/${zhang.owner.id}/accounts`, { username: DAVE.username });
    assert.equal(link.status, 201, link.text);

    carol = await apiLogin(app.base, CAROL.username, CAROL.password);
    const now = Date.now();
    const v = await carol.post('/api/v1/votes', {
      title: TITLE, place_id: a.id, rule: { kind: 'civil_code', matter: 'ordinary' },
      opens_at: now - 1000, closes_at: now + 3_600_000, channels: ['online', 'paper'],
    });
    voteId = v.id;
    const opened = await carol.post(`/api/v1/votes/${voteId}/open`, {});
    assert.equal(opened.status, 'open');
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await app?.stop();
  });

  async function withPhone(fn) {
    const context = await browser.newContext({ locale: 'zh-CN', ...PHONE });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    try {
      return await fn(page);
    } finally {
      await context.close();
    }
  }

  async function formLogin(page, user) {
    await page.goto(`${app.base}/login`);
    await page.fill('#username', user.username);
    await page.fill('#password', user.password);
    await page.click('#login-submit');
    await page.waitForURL(`${app.base}/`);
  }

  async function fitsTheScreen(page, what) {
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= PHONE.viewport.width, `${what}: page is ${width}px wide on a ${PHONE.viewport.width}px screen`);
  }

  test('the owner finds the vote, votes, changes the ballot, and sees the result', async () => {
    await withPhone(async (page) => {
      await formLogin(page, DAVE);
      await page.click('#my-votes');
      await page.waitForURL(`${app.base}/votes`);
      const links = page.locator('a.vote-link');
      assert.deepEqual(await links.allInnerTexts(), [TITLE]);
      await links.first().click();
      await page.waitForURL(`${app.base}/votes/${voteId}`);
      assert.equal(await page.locator('#vote-title').innerText(), TITLE);
      assert.equal(await page.locator('#vote-status').getAttribute('data-status'), 'open');
      assert.equal(await page.locator('#turnout-heads').innerText(), '0');
      assert.ok(await page.locator('#not-voted').isVisible());
      await fitsTheScreen(page, 'vote page');

      // The three buttons are on screen, side by side, big enough to tap.
      for (const id of ['#vote-yes', '#vote-no', '#vote-abstain']) {
        const box = await page.locator(id).boundingBox();
        assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.viewport.width, `${id} within the screen`);
        assert.ok(box.height >= 40, `${id} is ${box.height}px tall`);
      }
      await mkdir(ARTIFACTS_DIR, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS_DIR, 'vote-phone.png'), fullPage: true });

      await page.locator('#vote-yes').tap();
      await page.waitForSelector('#receipt');
      assert.equal(await page.locator('#current-choice strong').innerText(), '同意');
      const firstReceipt = await page.locator('#receipt').innerText();
      assert.match(firstReceipt, /^[2-9A-Z]{10}$/);
      assert.equal(await page.locator('#turnout-heads').innerText(), '1');

      // Change of mind before close: the new ballot is current, heads stay 1.
      await page.locator('#vote-no').tap();
      await page.waitForFunction(() => document.querySelector('#current-choice strong')?.textContent === '反对');
      const secondReceipt = await page.locator('#receipt').innerText();
      assert.notEqual(secondReceipt, firstReceipt);
      assert.equal(await page.locator('#turnout-heads').innerText(), '1');

      // The public board (every ballot: view=all) lists both receipts, the first one superseded; no full name.
      const board = await (await fetch(`${app.base}/api/v1/public/votes/${voteId}/board?view=all`)).json();
      const mine = board.ballots.filter((b) => b.receipt === firstReceipt || b.receipt === secondReceipt);
      assert.equal(mine.length, 2);
      assert.deepEqual(mine.map((b) => b.current).sort(), [false, true]);
      assert.ok(!JSON.stringify(board).includes('张伟'), 'full name of an owner who did not consent');
      assert.ok(mine.every((b) => b.name === '张*'));

      // Close: the owner sees the result and the record link; the ballot buttons are gone.
      await carol.post(`/api/v1/votes/${voteId}/close`, {});
      await page.reload();
      assert.equal(await page.locator('#vote-status').getAttribute('data-status'), 'closed');
      assert.equal(await page.locator('#passed').getAttribute('data-passed'), 'false');
      assert.equal(await page.locator('#vote-yes').count(), 0);
      assert.ok((await page.locator('#conditions li').count()) >= 4, 'turnout and approval conditions listed');
      await fitsTheScreen(page, 'closed vote page');
      const rec = await fetch(`${app.base}${await page.locator('#record-link').getAttribute('href')}`);
      assert.equal(rec.status, 200);
      const record = await rec.json();
      assert.equal(record.format, 'gongzhi.vote/1');
      assert.deepEqual(record.ballots.map((b) => b.choice), ['no']);
    });
  });

  test('a user who is not an owner in the vote is refused', async () => {
    await withPhone(async (page) => {
      await formLogin(page, ERIN);
      await page.goto(`${app.base}/votes`);
      assert.ok(await page.locator('#no-votes').isVisible());
      const r = await page.goto(`${app.base}/votes/${voteId}`);
      assert.equal(r.status(), 404);
      assert.equal(await page.locator('#vote-yes').count(), 0);
    });
  });
});
