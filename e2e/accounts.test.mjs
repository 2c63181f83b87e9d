// End-to-end: accounts for real people, in the demo, on a phone. A new owner
// signs up with their phone (the code is read from the logged SMS outbox),
// claims their flat in 精城名典 by address and the owner of record's name,
// and lands on a home that shows their household; a claim that does not
// match waits in the community's queue, where community staff approve it;
// staff invite a grid worker, who accepts from the texted link; a reset by
// phone code ends the old session.
//
//   GONGZHI_BIN=target/debug/gongzhi node --test e2e/accounts.test.mjs   (or e2e/run.sh)

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startGongzhi, launchChromium, ARTIFACTS_DIR } from './harness.mjs';

const PASSWORD = 'gongzhi-demo';
const PHONE = { viewport: { width: 360, height: 800 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true, locale: 'zh-CN' };

describe('sign up → claim → household; queue; invitation; reset', () => {
  let app;
  let browser;
  let flat; // a flat of 精城名典 and its owner of record's name
  let compound;

  /** The last SMS to `phone`, from the outbox the logging sender writes. */
  async function lastText(phone) {
    const log = await readFile(join(app.dir, 'sms.log'), 'utf8');
    const texts = log.trim().split('\n').map((l) => JSON.parse(l)).filter((m) => m.to === phone);
    assert.ok(texts.length > 0, `a text to ${phone}`);
    return texts.at(-1).text;
  }
  const codeIn = (t) => t.match(/\d{6}/)[0];

  async function context() {
    const c = await browser.newContext(PHONE);
    const page = await c.newPage();
    page.setDefaultTimeout(15_000);
    return { c, page };
  }

  async function as(username) {
    const { c, page } = await context();
    await page.goto(`${app.base}/login`);
    await page.fill('#username', username);
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL(`${app.base}/`), page.click('#login-submit')]);
    return { c, page };
  }

  before(async () => {
    app = await startGongzhi({ name: 'accounts', demo: true });
    browser = await launchChromium();
    await mkdir(ARTIFACTS_DIR, { recursive: true });
    // Community staff read the register: a flat of 精城名典 and its owner's name.
    const { c } = await as('community');
    const list = await (await c.request.get(`${app.base}/api/v1/public/compounds`)).json();
    compound = list.compounds.find((x) => x.name === '精城名典');
    // the compound's id: below the staff's top place
    const places = await (await c.request.get(`${app.base}/api/v1/places`)).json();
    let id = null;
    for (const top of places.places) {
      if (top.name === '精城名典') id = top.id;
      const view = await (await c.request.get(`${app.base}/api/v1/places/${top.id}`)).json();
      for (const k of view.children ?? []) if (k.name === '精城名典') id = k.id;
    }
    assert.ok(id, '精城名典 is reachable for community staff');
    const parts = await (await c.request.get(`${app.base}/api/v1/places/${id}/parts?limit=200`)).json();
    flat = parts.parts.find((p) => p.kind === 'flat' && p.owner && p.owner.kind === 'person');
    assert.ok(flat, 'a flat owned by a person');
    await c.close();
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  test('a new owner signs up, claims their flat and sees their household', async () => {
    const { c, page } = await context();
    await page.goto(`${app.base}/login`);
    await Promise.all([page.waitForURL(/\/signup$/), page.click('#signup-link')]);
    await page.fill('#phone', '13812345678');
    await Promise.all([page.waitForSelector('#code-sent'), page.click('#send-code')]);
    await page.fill('#code', codeIn(await lastText('13812345678')));
    await page.fill('#new-password', 'my own password');
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'accounts-signup-390.png'), fullPage: true });
    await Promise.all([page.waitForURL(/\/claim$/), page.click('#verify-submit')]);
    // no household yet: the menu offers the claim
    assert.ok(await page.locator('#menu a[data-key="menu.claim"]').count() > 0);
    await page.selectOption('#compound', compound.code);
    await page.fill('#building', flat.building);
    await page.fill('#unit', flat.unit ?? '');
    await page.fill('#number', flat.number);
    await page.fill('#owner-name', flat.owner.name);
    await Promise.all([page.waitForURL(/filed=linked/), page.click('#claim-submit')]);
    assert.equal(await page.getAttribute('#claim-filed', 'data-status'), 'linked');
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'accounts-claim-390.png'), fullPage: true });
    await page.goto(`${app.base}/`);
    assert.ok(await page.locator('[data-key="menu.household"]').count() > 0, 'the household is in the menu');
    assert.match(await page.textContent('main'), new RegExp(flat.number));
    // a claim that does not match waits for the community
    await page.goto(`${app.base}/claim`);
    await page.selectOption('#compound', compound.code);
    await page.fill('#building', flat.building);
    await page.fill('#unit', flat.unit ?? '');
    await page.fill('#number', flat.number);
    await page.fill('#owner-name', '不是业主');
    await Promise.all([page.waitForURL(/filed=queued/), page.click('#claim-submit')]);
    assert.equal(await page.locator('#my-claims li[data-status="queued"]').count(), 1);
    await c.close();
  });

  test('community staff approve the queued claim and invite a grid worker', async () => {
    const { c, page } = await as('community');
    await page.click('#menu a[data-key="menu.accounts"]');
    await page.waitForSelector('#claims');
    assert.equal(await page.locator('#claims li').count(), 1);
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'accounts-admin-390.png'), fullPage: true });
    await Promise.all([page.waitForLoadState('load'), page.click('#claims li button.approve')]);
    await page.waitForSelector('#no-claims');
    // invite a grid worker by phone; the link is texted
    await page.fill('#invite-name', '新网格员');
    await page.fill('#invite-phone', '13900001111');
    await page.selectOption('#invite-role', 'grid_worker');
    await Promise.all([page.waitForSelector('#invited'), page.click('#invite-submit')]);
    const link = (await lastText('13900001111')).match(/\/invite\/(gzi_[0-9a-f]+)/)[0];
    await c.close();
    const { c: c2, page: p2 } = await context();
    await p2.goto(`${app.base}${link}`);
    assert.equal(await p2.getAttribute('#invitation', 'data-state'), 'open');
    await p2.fill('#new-password', 'grid worker password');
    await Promise.all([p2.waitForURL(`${app.base}/`), p2.click('#accept')]);
    assert.ok(await p2.locator('#menu a[data-key="menu.queue"]').count() > 0, 'the grid worker has a queue');
    // the link is spent
    await p2.goto(`${app.base}${link}`);
    assert.equal(await p2.getAttribute('#invitation', 'data-state'), 'accepted');
    await c2.close();
  });

  test('a reset by phone code ends the old session', async () => {
    const { c: old, page: oldPage } = await context();
    await oldPage.goto(`${app.base}/login`);
    await oldPage.fill('#username', '13900001111');
    await oldPage.fill('#password', 'grid worker password');
    await Promise.all([oldPage.waitForURL(`${app.base}/`), oldPage.click('#login-submit')]);
    // the invited grid worker (whose phone has asked for no code yet) forgot their password
    const { c, page } = await context();
    await page.goto(`${app.base}/forgot`);
    await page.fill('#phone', '13900001111');
    await Promise.all([page.waitForSelector('#code-sent'), page.click('#send-code')]);
    await page.fill('#code', codeIn(await lastText('13900001111')));
    await page.fill('#new-password', 'a brand new password');
    await Promise.all([page.waitForSelector('#reset-done'), page.click('#verify-submit')]);
    const r = await oldPage.request.get(`${app.base}/api/v1/me`);
    assert.equal(r.status(), 401, 'the old session ended');
    await c.close();
    await old.close();
  });
});
