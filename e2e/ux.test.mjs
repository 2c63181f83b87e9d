// End-to-end: the home and the menu of every demo login, on a phone.
// Each login lands on the home, sees the menu entries of its role and none
// of the others; every link reachable from the home and the menu (same
// origin, GET, depth 2) answers 200 for that login; at 360×800 no page of
// those (one per kind of page) is wider than the screen; a bogus URL shows
// the HTML 404 page, a page one may not use the 403 page, while /api/ keeps
// problem+json. Each role's home is shot at 390×844 into e2e/artifacts/.
//
//   GONGZHI_BIN=target/debug/gongzhi node --test e2e/ux.test.mjs   (or e2e/run.sh)

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startGongzhi, launchChromium, ARTIFACTS_DIR } from './harness.mjs';

const PASSWORD = 'gongzhi-demo';
const SMALL = { viewport: { width: 360, height: 800 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true };
const SHOT = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true };

const ALL = ['menu.home', 'menu.household', 'menu.queue', 'menu.approvals', 'menu.books', 'menu.votes',
  'menu.matters', 'menu.cases', 'menu.notifications', 'menu.report', 'menu.report_for', 'menu.places',
  'menu.party', 'menu.party_branch', 'menu.employer', 'menu.points', 'menu.store', 'menu.claim', 'menu.accounts'];
const STAFF = ['menu.home', 'menu.queue', 'menu.votes', 'menu.matters', 'menu.cases', 'menu.notifications', 'menu.party_branch', 'menu.accounts', 'menu.places'];
// The demo's logins and the menu each role is expected to have.
const MENUS = {
  owner: ['menu.home', 'menu.household', 'menu.books', 'menu.votes', 'menu.cases', 'menu.notifications', 'menu.report'],
  grid: ['menu.home', 'menu.queue', 'menu.books', 'menu.cases', 'menu.notifications', 'menu.report_for'],
  committee: ['menu.home', 'menu.queue', 'menu.approvals', 'menu.books', 'menu.votes', 'menu.matters', 'menu.cases', 'menu.notifications', 'menu.report_for', 'menu.party_branch'],
  steward: ['menu.home', 'menu.queue', 'menu.approvals', 'menu.books', 'menu.cases', 'menu.notifications', 'menu.report_for'],
  supervisor: ['menu.home', 'menu.approvals', 'menu.books', 'menu.matters'],
  community: ['menu.home', 'menu.queue', 'menu.votes', 'menu.matters', 'menu.cases', 'menu.notifications', 'menu.party_branch', 'menu.store', 'menu.accounts', 'menu.places'],
  street: STAFF,
  admin: STAFF,
  member: ['menu.home', 'menu.books', 'menu.votes', 'menu.cases', 'menu.notifications', 'menu.report', 'menu.party'],
  branch: ['menu.home', 'menu.queue', 'menu.approvals', 'menu.books', 'menu.matters', 'menu.cases', 'menu.notifications', 'menu.report_for', 'menu.party_branch'],
  employer: ['menu.home', 'menu.employer', 'menu.claim'],
};
// The home's summary tiles each role is expected to see.
const TILES = {
  owner: ['parts', 'my-votes', 'cases-link', 'unread'],
  grid: ['queue', 'cases-link', 'unread'],
  committee: ['queue', 'approvals', 'my-votes', 'cases-link', 'unread'],
  supervisor: ['approvals'],
};

/** A page's kind: its path with ids and codes replaced (one width check per kind). */
function kindOf(path) {
  return path
    .split('?')[0]
    .split('/')
    .map((seg, i, all) => (/^[0-9a-f]{8}-[0-9a-f-]{27}$/.test(seg) || (all[i - 1] === 'compounds') ? ':id' : seg))
    .join('/');
}

/**
 * Codes a page shows as text (snake_case identifiers such as `expense_repair`
 * or `compound_branch`) instead of their names: the visible text is the HTML
 * without tags, scripts, styles and `<code>` (ids and codes meant as such).
 */
function untranslated(html) {
  const text = html
    .replace(/<(script|style|code|head)[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&[a-z#0-9]+;/g, ' ');
  return [...new Set([...text.matchAll(/\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b/g)].map((m) => m[0]))];
}

/** Runs `fn` over `items`, `n` at a time. */
async function pool(items, n, fn) {
  const queue = [...items];
  await Promise.all(Array.from({ length: n }, async () => {
    while (queue.length) await fn(queue.shift());
  }));
}

describe('a home and a menu for every role, on a phone', () => {
  let app;
  let browser;

  before(async () => {
    app = await startGongzhi({ name: 'ux', demo: true });
    browser = await launchChromium();
    await mkdir(ARTIFACTS_DIR, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  async function login(context, username) {
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(`${app.base}/login`);
    await page.fill('#username', username);
    await page.fill('#password', PASSWORD);
    await page.click('#login-submit');
    await page.waitForURL(`${app.base}/`);
    return page;
  }

  /** Same-origin GET links of the page in view (no language switches, no downloads of the API). */
  async function links(page) {
    const hrefs = await page.$$eval('a[href]', (as) => as.map((a) => a.href));
    const out = new Set();
    for (const h of hrefs) {
      const u = new URL(h);
      if (u.origin !== app.base || u.search.includes('lang=')) continue;
      out.add(u.pathname + u.search);
    }
    return out;
  }

  for (const [username, expected] of Object.entries(MENUS)) {
    test(`${username}: lands on the home with its menu, every link works and fits 360 px`, async () => {
      const context = await browser.newContext({ ...SMALL, locale: 'zh-CN' });
      try {
        const page = await login(context, username);
        const keys = await page.$$eval('#menu a[data-key]', (as) => as.map((a) => a.dataset.key));
        assert.deepEqual([...keys].sort(), [...expected].sort(), `${username}'s menu`);
        for (const k of ALL.filter((k) => !expected.includes(k))) {
          assert.ok(!keys.includes(k), `${username} is offered ${k}`);
        }
        assert.equal(await page.getAttribute('#menu a[data-key="menu.home"]', 'aria-current'), 'page');
        for (const id of TILES[username] || []) {
          assert.ok(await page.isVisible(`#summary #${id}`), `${username}'s home shows the ${id} tile`);
        }
        // Phone-first: base text, tags, touch targets of the menu and buttons.
        const sizes = await page.evaluate(() => ({
          body: parseFloat(getComputedStyle(document.body).fontSize),
          tags: [...document.querySelectorAll('.tag')].map((t) => parseFloat(getComputedStyle(t).fontSize)),
          targets: [...document.querySelectorAll('#menu a, button')].map((b) => b.getBoundingClientRect().height),
        }));
        assert.ok(sizes.body >= 16, `body text ${sizes.body}px`);
        assert.ok(sizes.tags.every((s) => s >= 14), `tags ${sizes.tags}`);
        assert.ok(sizes.targets.every((h) => h >= 44), `touch targets ${sizes.targets}`);

        // Depth 1: the home and its menu; depth 2: what those pages link to.
        const home = await links(page);
        const seen = new Map([['/', 200]]);
        const raw = []; // snake_case codes in a page's visible text
        const kinds = new Map(); // kind of page → one path
        const fetchAll = async (paths) => {
          const found = new Set();
          await pool([...paths].filter((p) => !seen.has(p)), 6, async (p) => {
            if (seen.has(p)) return;
            seen.set(p, 0);
            const r = await context.request.get(`${app.base}${p}`, { headers: { accept: 'text/html' }, maxRedirects: 0 });
            seen.set(p, r.status());
            if (r.status() !== 200 || !(r.headers()['content-type'] || '').startsWith('text/html')) return;
            if (!kinds.has(kindOf(p))) kinds.set(kindOf(p), p);
            const html = await r.text();
            for (const code of untranslated(html)) raw.push(`${p}: ${code}`);
            for (const m of html.matchAll(/href="([^"]+)"/g)) {
              const u = new URL(m[1].replaceAll('&amp;', '&'), `${app.base}${p}`);
              if (u.origin === app.base && !u.search.includes('lang=') && !u.pathname.startsWith('/assets/')) {
                found.add(u.pathname + u.search);
              }
            }
          });
          return found;
        };
        const depth2 = await fetchAll(home);
        await fetchAll(depth2);
        assert.deepEqual(raw, [], `${username}: codes shown to a person untranslated`);
        const bad = [...seen].filter(([, s]) => s !== 200);
        assert.deepEqual(bad, [], `${username}: links that do not answer 200`);
        assert.ok(seen.size > expected.length, `${username}: crawled ${seen.size} pages`);

        // 360 px: one page of each kind, rendered.
        kinds.set('/', '/');
        const wide = [];
        for (const p of kinds.values()) {
          const r = await page.goto(`${app.base}${p}`);
          assert.equal(r.status(), 200, p);
          const w = await page.evaluate(() => document.documentElement.scrollWidth);
          if (w > 360) wide.push(`${p}: ${w}px`);
        }
        assert.deepEqual(wide, [], `${username}: pages wider than 360 px`);
      } finally {
        await context.close();
      }
    });
  }

  test('each role\'s home at 390×844 (screenshots)', async () => {
    for (const username of Object.keys(MENUS)) {
      const context = await browser.newContext({ ...SHOT, locale: 'zh-CN' });
      try {
        const page = await login(context, username);
        await page.screenshot({ path: join(ARTIFACTS_DIR, `home-${username}.png`) });
      } finally {
        await context.close();
      }
    }
  });

  test('a bogus URL shows the 404 page, a page one may not use the 403 page; /api/ stays problem+json', async () => {
    const context = await browser.newContext({ ...SMALL, locale: 'zh-CN' });
    try {
      const page = await login(context, 'owner');
      let r = await page.goto(`${app.base}/no/such/page`);
      assert.equal(r.status(), 404);
      assert.equal(await page.getAttribute('#error-page', 'data-status'), '404');
      assert.match(await page.textContent('#error-page h1'), /没有这个页面/);
      assert.ok(await page.isVisible('#menu'), 'the error page keeps the menu');
      assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 360);
      await page.click('#back-home');
      await page.waitForURL(`${app.base}/`);

      r = await page.goto(`${app.base}/compounds/jingcheng-mingdian/books/queue?lang=en`);
      assert.equal(r.status(), 403);
      assert.match(await page.textContent('#error-page h1'), /Not allowed here/);

      const api = await context.request.get(`${app.base}/api/v1/no-such-thing`, { headers: { accept: 'text/html' } });
      assert.equal(api.status(), 404);
      assert.match(api.headers()['content-type'], /application\/problem\+json/);
    } finally {
      await context.close();
    }
  });
});
