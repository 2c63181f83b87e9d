// Shared helpers for the end-to-end tests: a throw-away Gongzhi instance
// (temp data dir, CLI-created users, imported roster, `gongzhi serve` on a free
// port), a small JSON API client, and the Debian chromium launcher.

import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export const E2E_DIR = dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS_DIR = join(E2E_DIR, 'artifacts');
export const FIXTURES_DIR = join(E2E_DIR, 'fixtures');

/** The gongzhi binary: $GONGZHI_BIN, else <repo>/target/debug/gongzhi. */
export const GONGZHI_BIN = resolve(process.env.GONGZHI_BIN || join(E2E_DIR, '..', 'target', 'debug', 'gongzhi'));

/** Chromium: $CHROMIUM_PATH, else Debian's /usr/bin/chromium. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The child's environment, without settings that would point it at other data. */
function childEnv() {
  const env = { ...process.env, GONGZHI_LOG: process.env.GONGZHI_LOG || 'warn', NO_COLOR: '1' };
  for (const k of ['GONGZHI_DATABASE_URL', 'GONGZHI_DATA_DIR', 'GONGZHI_LISTEN']) delete env[k];
  return env;
}

/** Runs one `gongzhi` CLI command; throws with its output when it fails. */
export async function gongzhi(args) {
  try {
    const { stdout } = await execFileP(GONGZHI_BIN, args, { env: childEnv(), timeout: 60_000, maxBuffer: 16 << 20 });
    return stdout;
  } catch (e) {
    throw new Error(`gongzhi ${args.join(' ')} failed (exit ${e.code}):\n${e.stdout || ''}${e.stderr || ''}`);
  }
}

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

const live = new Set();
// Last resort: never leave a server behind, even if the test process dies on an error.
process.on('exit', () => {
  for (const c of live) {
    try { c.kill('SIGKILL'); } catch { /* already gone */ }
  }
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    for (const c of live) {
      try { c.kill('SIGKILL'); } catch { /* already gone */ }
    }
    process.kill(process.pid, sig);
  });
}

/**
 * A running Gongzhi: `dataDir`, `base` URL, `log()` (server output so far),
 * `stop()` (kills the server and removes the data dir; safe to call twice).
 * `demo: true` runs `gongzhi demo` (the demo city and its logins) instead.
 */
export async function startGongzhi({ users = [], rosters = [], name = 'gongzhi', demo = false } = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'gongzhi-e2e-'));
  let child = null;
  let output = '';
  let stopped = false;
  const app = {
    dataDir,
    /** The data dir the server runs on (the demo's own, inside dataDir). */
    dir: dataDir,
    base: '',
    log: () => output,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child) {
        await killChild(child);
        live.delete(child);
        try {
          await mkdir(ARTIFACTS_DIR, { recursive: true });
          await writeFile(join(ARTIFACTS_DIR, `${name}-server.log`), output);
        } catch { /* logs are a convenience */ }
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  try {
    for (const u of users) {
      await gongzhi(['admin', 'create-user', u.username, ...(u.admin ? ['--admin'] : []), '--password', u.password, '--data-dir', dataDir]);
    }
    for (const r of rosters) {
      await gongzhi(['import', 'roster', r, '--data-dir', dataDir]);
    }
    // A port picked free may be taken before the server binds it: retry a few times.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      output = '';
      // The demo loads its city into a fresh data dir first: a retry needs another.
      const dir = demo ? await mkdtemp(join(dataDir, 'demo-')) : dataDir;
      const args = [demo ? 'demo' : 'serve', '--data-dir', dir, '--listen', `127.0.0.1:${port}`];
      child = spawn(GONGZHI_BIN, args, { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      live.add(child);
      const keep = (d) => { output = (output + d.toString()).slice(-200_000); };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      app.base = `http://127.0.0.1:${port}`;
      app.dir = dir;
      try {
        await waitHealthy(app.base, child, () => output, demo ? 120_000 : 30_000);
        break;
      } catch (e) {
        await killChild(child);
        live.delete(child);
        if (attempt >= 3 || !/cannot listen/.test(output)) throw e;
      }
    }
    return app;
  } catch (e) {
    await app.stop();
    throw e;
  }
}

async function waitHealthy(base, child, log, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`gongzhi serve exited (${child.exitCode ?? child.signalCode}) before it was healthy:\n${log()}`);
    }
    try {
      const r = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (r.ok && (await r.text()).trim() === 'ok') return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gongzhi serve not healthy at ${base}/healthz after ${timeoutMs} ms:\n${log()}`);
}

function killChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    const t = setTimeout(() => {
      try { child.kill('SIGKILL'); } catch { /* gone */ }
    }, 5000);
    child.once('exit', () => { clearTimeout(t); res(); });
    // The server shuts down gracefully on SIGINT (ctrl-c); SIGKILL after 5 s otherwise.
    try { child.kill('SIGINT'); } catch { clearTimeout(t); res(); }
  });
}

/** A logged-in JSON API client (cookie session). */
export async function apiLogin(base, username, password) {
  const r = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (r.status !== 200) throw new Error(`API login as ${username}: ${r.status} ${await r.text()}`);
  const cookie = r.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('gz_session='));
  if (!cookie) throw new Error(`API login as ${username}: no gz_session cookie`);
  const call = async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, json, text };
  };
  return {
    call,
    async get(path) {
      const r = await call('GET', path);
      if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.text}`);
      return r.json;
    },
    async post(path, body) {
      const r = await call('POST', path, body);
      if (r.status < 200 || r.status >= 300) throw new Error(`POST ${path}: ${r.status} ${r.text}`);
      return r.json;
    },
  };
}

/** Walks the place tree from the caller's top places by names; returns the last place summary. */
export async function placeByNames(api, names) {
  let list = (await api.get('/api/v1/places')).places;
  let found = null;
  for (const n of names) {
    found = list.find((p) => p.name === n);
    if (!found) throw new Error(`no place '${n}' among [${list.map((p) => p.name).join(', ')}]`);
    list = (await api.get(`/api/v1/places/${found.id}`)).children;
  }
  return found;
}

export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 60_000 });
}
