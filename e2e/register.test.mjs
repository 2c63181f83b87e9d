// End-to-end: the register pages as a committee member, an owner and a
// stranger see them, in a real browser (Debian chromium via playwright-core).
//
//   GONGZHI_BIN=target/debug/gongzhi node --test e2e/*.test.mjs   (or e2e/run.sh)

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startGongzhi, apiLogin, placeByNames, launchChromium, FIXTURES_DIR, ARTIFACTS_DIR } from './harness.mjs';

const ROSTER = join(FIXTURES_DIR, 'roster.csv');

// The fixture, read back so the assertions follow it (no quoted fields in it).
const rows = (() => {
  const [head, ...lines] = readFileSync(ROSTER, 'utf8').trim().split(/\r?\n/);
  const cols = head.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
})();
const [DISTRICT, STREET, COMMUNITY] = [rows[0].district, rows[0].street, rows[0].community];
const COMPOUND_A = rows[0].compound; // 阳光花园
const COMPOUND_B = rows.find((r) => r.compound !== COMPOUND_A).compound; // 翠竹苑
const rowsA = rows.filter((r) => r.compound === COMPOUND_A);
const rowsB = rows.filter((r) => r.compound === COMPOUND_B);

const ADMIN = { username: 'root', password: 'e2e-admin-password', admin: true };
const ALICE = { username: 'alice', password: 'e2e-alice-password' };
const BOB = { username: 'bob', password: 'e2e-bob-password' };

/** GET with no headers beyond Host (fetch would add Accept-Language: *). */
function rawGet(url) {
  return new Promise((res, rej) => {
    httpGet(url, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d) => { body += d; });
      r.on('end', () => res({ status: r.statusCode, body }));
    }).on('error', rej);
  });
}

const MASKED_PHONE = /^\d{3}\*{4}\d{4}$/;

/** Every way a full phone number could show up in HTML: as written, and digits only. */
function phoneForms(phone) {
  return [...new Set([phone, phone.replace(/\D/g, '')])];
}

/** Fails when any full phone number (as written or digits only) is in `html`. */
function assertNoFullPhones(html, phones, who) {
  for (const p of phones) {
    for (const form of phoneForms(p)) {
      assert.ok(!html.includes(form), `${who}: full phone ${form} appears in the page HTML`);
    }
  }
}

describe('register pages (committee member, owner, stranger)', () => {
  let app;
  let browser;
  let idA;
  let idB;
  let buildingsB = [];

  before(async () => {
    app = await startGongzhi({ name: 'register', users: [ADMIN, ALICE, BOB], rosters: [ROSTER] });
    const admin = await apiLogin(app.base, ADMIN.username, ADMIN.password);
    const a = await placeByNames(admin, [DISTRICT, STREET, COMMUNITY, COMPOUND_A]);
    const b = await placeByNames(admin, [DISTRICT, STREET, COMMUNITY, COMPOUND_B]);
    assert.equal(a.kind, 'compound');
    assert.equal(b.kind, 'compound');
    idA = a.id;
    idB = b.id;
    buildingsB = (await admin.get(`/api/v1/places/${idB}`)).children;
    assert.ok(buildingsB.length > 0, 'compound B has buildings');
    await admin.post('/api/v1/grants', { username: ALICE.username, role: 'committee_member', place_id: idA });
    await admin.post('/api/v1/grants', { username: BOB.username, role: 'owner', place_id: idA });
    browser = await launchChromium();
  });

  after(async () => {
    // Always: browser closed, server killed, temp data dir removed.
    await browser?.close().catch(() => {});
    await app?.stop();
  });

  /** A fresh browser context (no cookies), closed when `fn` ends. */
  async function withPage(options, fn) {
    const context = await browser.newContext({ locale: 'zh-CN', ...options });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    try {
      return await fn(page, context);
    } finally {
      await context.close();
    }
  }

  /** Logs in through the form and lands on the home page. */
  async function formLogin(page, user) {
    await page.goto(`${app.base}/login`);
    await page.fill('#username', user.username);
    await page.fill('#password', user.password);
    await page.click('#login-submit');
    await page.waitForURL(`${app.base}/`);
  }

  async function sessionCookie(context) {
    return (await context.cookies(app.base)).find((c) => c.name === 'gz_session');
  }

  test('committee member sees compound A with masked phones and nothing of compound B', async () => {
    await withPage({}, async (page, context) => {
      await formLogin(page, ALICE);
      const cookie = await sessionCookie(context);
      assert.ok(cookie, 'session cookie set');
      assert.equal(cookie.httpOnly, true, 'session cookie is HttpOnly');

      // Home: exactly compound A.
      const links = page.locator('a.place-link');
      assert.deepEqual(await links.allInnerTexts(), [COMPOUND_A]);
      assert.ok(!(await page.content()).includes(COMPOUND_B), 'compound B named on the home page');

      // Click through to compound A.
      await links.first().click();
      await page.waitForURL(`${app.base}/places/${idA}`);
      assert.equal(await page.locator('h1').first().innerText().then((t) => t.includes(COMPOUND_A)), true);
      assert.equal(await page.locator('#no-register').count(), 0, 'committee member told she may not see owners');

      // The parts table: one row per part of A, owners named, phones masked.
      const table = page.locator('#parts');
      await table.waitFor();
      assert.equal(await table.locator('tbody tr').count(), rowsA.length);
      const phones = await table.locator('td.phone').allInnerTexts();
      assert.equal(phones.length, rowsA.length);
      for (const p of phones) assert.match(p.trim(), MASKED_PHONE);
      const body = await table.innerText();
      for (const r of rowsA) {
        assert.ok(body.includes(r.owner_name), `owner ${r.owner_name} listed`);
        const masked = `${r.phone.replace(/\D/g, '').slice(0, 3)}****${r.phone.slice(-4)}`;
        assert.ok(phones.map((p) => p.trim()).includes(masked), `phone of ${r.owner_name} shown as ${masked}`);
      }
      const html = await page.content();
      assertNoFullPhones(html, rows.map((r) => r.phone), 'alice on compound A');
      assert.ok(!html.includes(COMPOUND_B), 'compound B named on compound A');
      for (const r of rowsB) assert.ok(!html.includes(r.owner_name), `owner ${r.owner_name} of B shown on A`);

      // A building of A also shows its parts, masked.
      await page.locator('a.place-link').first().click();
      await page.waitForURL(/\/places\//);
      for (const p of await page.locator('#parts td.phone').allInnerTexts()) assert.match(p.trim(), MASKED_PHONE);
      assertNoFullPhones(await page.content(), rows.map((r) => r.phone), 'alice on a building of A');

      // Compound B and its buildings are not in her world: 404, nothing of B shown.
      for (const id of [idB, ...buildingsB.map((b) => b.id)]) {
        const resp = await page.goto(`${app.base}/places/${id}`);
        assert.equal(resp.status(), 404, `/places/${id} answers 404`);
        assert.match((await page.locator('h1').innerText()).trim(), /^404 /);
        assert.equal(await page.title(), '404 · 共治', 'the error page has its own title');
        const h = await page.content();
        assert.ok(!h.includes(COMPOUND_B), 'the 404 page names compound B');
        assertNoFullPhones(h, rows.map((r) => r.phone), 'alice on B');
      }
      // The API agrees with the pages.
      const api = await page.request.get(`${app.base}/api/v1/places/${idB}`);
      assert.equal(api.status(), 404);

      // An id that is markup comes back escaped on the 404 page.
      const probe = await page.goto(`${app.base}/places/${encodeURIComponent('<b id="xss">x</b>')}`);
      assert.equal(probe.status(), 404);
      assert.equal(await page.locator('#xss').count(), 0, 'the place id was rendered as HTML');
    });
  });

  test('a wrong password shows the login error and opens no session', async () => {
    await withPage({}, async (page, context) => {
      await page.goto(`${app.base}/login`);
      await page.fill('#username', ALICE.username);
      await page.fill('#password', 'not-the-password');
      const [resp] = await Promise.all([
        page.waitForResponse((r) => r.url() === `${app.base}/login` && r.request().method() === 'POST'),
        page.click('#login-submit'),
      ]);
      assert.equal(resp.status(), 401);
      await page.waitForLoadState();
      const err = page.locator('#login-error');
      assert.equal(await err.isVisible(), true, '#login-error shown');
      assert.equal((await err.innerText()).trim(), '用户名或密码错误');
      assert.equal(await sessionCookie(context), undefined, 'a session cookie was set');
      // Not logged in: home sends back to the login form.
      await page.goto(`${app.base}/`);
      assert.equal(new URL(page.url()).pathname, '/login');
      const me = await page.request.get(`${app.base}/api/v1/me`);
      assert.equal(me.status(), 401);
    });
  });

  test('an owner sees compound A but no owners and no phones', async () => {
    await withPage({}, async (page, context) => {
      await formLogin(page, BOB);
      const links = page.locator('a.place-link');
      assert.deepEqual(await links.allInnerTexts(), [COMPOUND_A]);
      await links.first().click();
      await page.waitForURL(`${app.base}/places/${idA}`);
      const note = page.locator('#no-register');
      assert.equal(await note.isVisible(), true, '#no-register shown');
      assert.equal((await note.innerText()).trim(), '您无权查看本区域的业主信息。');
      assert.equal(await page.locator('td.phone').count(), 0, 'phone cells shown to an owner');
      const html = await page.content();
      assertNoFullPhones(html, rows.map((r) => r.phone), 'bob on compound A');
      assert.ok(!/\d{3}\*{4}\d{4}/.test(html), 'a masked phone shown to an owner');
      for (const r of rows) assert.ok(!html.includes(r.owner_name), `owner name ${r.owner_name} shown to an owner`);
      assert.ok(!html.includes(COMPOUND_B), 'compound B named to an owner of A');
      const resp = await page.goto(`${app.base}/places/${idB}`);
      assert.equal(resp.status(), 404);

      // Logging out ends the session on the server, not just in the browser.
      const before = await sessionCookie(context);
      assert.ok(before, 'session cookie before logout');
      await page.click('#logout');
      await page.waitForURL(`${app.base}/login`);
      assert.equal(await sessionCookie(context), undefined, 'session cookie kept after logout');
      const replay = await fetch(`${app.base}/api/v1/me`, { headers: { cookie: `gz_session=${before.value}` } });
      assert.equal(replay.status, 401, 'the old session token still works after logout');
    });
  });

  test('language: Simplified Chinese by default, ?lang=en and ?lang=zh-TW', async () => {
    // Default: a request with no Accept-Language at all (chromium always sends one).
    const bare = await rawGet(`${app.base}/login`);
    assert.equal(bare.status, 200);
    assert.match(bare.body, /<html lang="zh-CN">/);
    assert.match(bare.body, /id="login-submit">登录</);
    // Default in the browser: a browser asking for a language the app does not speak.
    await withPage({ locale: 'fr-FR' }, async (page) => {
      await page.goto(`${app.base}/login`);
      assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
      assert.equal(await page.locator('html[lang="zh-CN"]').count(), 1);
      assert.equal((await page.locator('#login-submit').innerText()).trim(), '登录');
    });
    await withPage({ locale: 'en-US' }, async (page) => {
      for (const [q, lang, label] of [['en', 'en', 'Log in'], ['zh-TW', 'zh-TW', '登入'], ['zh-CN', 'zh-CN', '登录']]) {
        await page.goto(`${app.base}/login?lang=${q}`);
        assert.equal(await page.locator('html').getAttribute('lang'), lang, `?lang=${q}`);
        assert.equal((await page.locator('#login-submit').innerText()).trim(), label, `?lang=${q}`);
      }
      // The choice sticks (gz_lang cookie) without the query parameter.
      await page.goto(`${app.base}/login?lang=en`);
      await page.goto(`${app.base}/login`);
      assert.equal(await page.locator('html').getAttribute('lang'), 'en', 'language remembered');
      assert.equal((await page.locator('#login-submit').innerText()).trim(), 'Log in');
    });
  });

  test('phone-sized screenshot of the committee view of compound A', async (t) => {
    await withPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }, async (page) => {
      await formLogin(page, ALICE);
      await page.goto(`${app.base}/places/${idA}`);
      await page.locator('#parts').waitFor();
      await page.evaluate(() => document.fonts.ready);
      // The page itself must not scroll sideways; only the table's own box may.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `page is ${overflow}px wider than a 390px phone`);
      await mkdir(ARTIFACTS_DIR, { recursive: true });
      const file = join(ARTIFACTS_DIR, 'alice-compound-A-390x844.png');
      await page.screenshot({ path: file, fullPage: true });
      // The table scrolls inside its own box: report (not fail) columns a phone user
      // has to swipe to, then capture the table scrolled to its right end.
      const hidden = await page.evaluate(() => {
        const box = document.querySelector('#parts').closest('.scroll') || document.documentElement;
        const right = box.getBoundingClientRect().right;
        return [...document.querySelectorAll('#parts thead th')].filter((th) => th.getBoundingClientRect().right > right + 1).map((th) => th.textContent.trim());
      });
      if (hidden.length) t.diagnostic(`at 390px these parts-table columns are off-screen until the table is swiped: ${hidden.join(', ')}`);
      await page.locator('#parts').evaluate((el) => {
        const box = el.closest('.scroll');
        if (box) box.scrollLeft = box.scrollWidth;
      });
      await page.screenshot({ path: join(ARTIFACTS_DIR, 'alice-compound-A-390x844-table-scrolled.png') });
      for (const p of await page.locator('#parts td.phone').allInnerTexts()) assert.match(p.trim(), MASKED_PHONE);
    });
  });
});
