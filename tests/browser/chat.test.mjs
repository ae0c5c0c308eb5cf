// End-to-end test of examples/chat.rs in real headless Chromium: two tabs
// (one desktop, one phone-sized) with different names chat in one room; the
// names, who said what, the own-line marks, join and leave notices, the count
// online, long and 1 MiB lines, and the connection state while the server is
// killed and started again on the same port (both tabs reconnect by
// themselves). Screenshots at desktop (1280×800) and mobile (375×740) widths.
//
//   bash tests/browser/run.sh          # installs what is missing, builds, runs
//   node --test tests/browser/         # when chromium, node_modules and the example exist
//
// Environment:
//   WSLITE_CHAT_BIN      the chat binary (default $CARGO_TARGET_DIR/release/examples/chat,
//                        $CARGO_TARGET_DIR defaulting to ./target)
//   WSLITE_CHROMIUM      the browser (default /usr/bin/chromium)
//   WSLITE_SCREENSHOT    the folder the screenshots go to (default $CARGO_TARGET_DIR/browser)
//
// The steps depend on each other and run in order; once one fails, the rest
// are skipped (not left to time out). The `after` hook always closes the
// browser and kills the server.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';

const CHAT_BIN = path.resolve(
  process.env.WSLITE_CHAT_BIN ||
    path.join(process.env.CARGO_TARGET_DIR || 'target', 'release', 'examples', 'chat'),
);
const CHROMIUM = process.env.WSLITE_CHROMIUM || '/usr/bin/chromium';
const SCREENSHOTS = path.resolve(
  process.env.WSLITE_SCREENSHOT || path.join(process.env.CARGO_TARGET_DIR || 'target', 'browser'),
);
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];
const WAIT = 10_000; // every single wait is bounded by this (or less)
const BIG = 1 << 20; // 1 MiB of random printable ASCII: compresses to about 83%
const ROOM = 'blue sky';

const log = (msg) => console.log(`  check: ${msg}`);

// --- the chat server -------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Starts the chat binary and resolves once it prints its address, or rejects
// if it exits first (say the port was taken in between) or takes too long.
function startServer(port) {
  const proc = spawn(CHAT_BIN, [`127.0.0.1:${port}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  // The chat ignores EOF on a non-terminal stdin and would outlive us, so kill
  // it on any exit of this process, even one that skips the `after` hook.
  const killOnExit = () => proc.kill('SIGKILL');
  process.once('exit', killOnExit);
  const server = { proc, port, stdout: '', stderr: '', exit: null };
  server.exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => {
      process.removeListener('exit', killOnExit);
      server.exit = { code, signal };
      resolve(server.exit);
    });
  });
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (d) => (server.stdout += d));
  proc.stderr.on('data', (d) => (server.stderr += d));
  proc.stdin.on('error', () => {}); // EPIPE if it died; reported elsewhere
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`chat did not listen within ${WAIT} ms`)), WAIT);
    const onData = () => {
      if (server.stdout.includes(`chat on http://127.0.0.1:${port}`)) {
        clearTimeout(timer);
        resolve(server);
      }
    };
    proc.stdout.on('data', onData);
    proc.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    server.exited.then((e) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`chat exited before listening: ${JSON.stringify(e)}\n${server.stderr}`), { exited: true }));
    });
  });
  return listening.catch((e) => {
    proc.kill('SIGKILL');
    throw e;
  });
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// --- in-page helpers (run inside the tabs) --------------------------------

// Deterministic 1 MiB of printable ASCII, so a lost, duplicated or reordered
// chunk anywhere changes the checksum.
function makeBig(n) {
  let x = 0x2545f491;
  const codes = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    codes[i] = 33 + ((x >>> 0) % 94);
  }
  return new TextDecoder().decode(codes);
}

// Length, SHA-256 of the UTF-8 bytes and a few samples of a string.
async function digest(s) {
  const bytes = new TextEncoder().encode(s);
  const hash = await crypto.subtle.digest('SHA-256', bytes);
  const hex = [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, '0')).join('');
  const at = [0, 1, 4095, 65536, 524287, s.length - 1].filter((i) => i >= 0 && i < s.length);
  return { length: s.length, bytes: bytes.length, sha256: hex, samples: at.map((i) => [i, s[i]]) };
}

// --- the test ----------------------------------------------------------------

describe('examples/chat.rs in headless Chromium', { timeout: 120_000 }, () => {
  let server;
  let port;
  let browser;
  let desk; // tab A: alice, desktop width
  let phone; // tab B: bob, mobile width
  const problems = []; // page errors and failed requests, checked at the end
  let broken = null; // the first failed step; later steps are skipped
  const screenshots = [];

  const step = (name, fn) =>
    it(name, async (t) => {
      if (broken) return t.skip(`after failed step: ${broken}`);
      try {
        await fn(t);
      } catch (e) {
        broken = name;
        if (server) {
          console.log(`--- chat stdout ---\n${server.stdout}--- chat stderr ---\n${server.stderr}`);
        }
        throw e;
      }
    });

  // Waits, bounded, until `fn(arg)` is truthy in the tab.
  const waitIn = (page, fn, arg, ms = WAIT) => page.waitForFunction(fn, arg, { timeout: ms, polling: 50 });
  // Waits, bounded, until the chat's stdout matches `re`.
  const waitOut = async (re, ms = WAIT) => {
    const deadline = Date.now() + ms;
    while (!re.test(server.stdout)) {
      assert.ok(Date.now() < deadline, `no ${re} in the chat's stdout within ${ms} ms:\n${server.stdout}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  // What a tab shows: its messages (who, text, whether marked as its own)
  // and its notices.
  const messages = (page) =>
    page.$$eval('#log .msg', (ms) =>
      ms.map((m) => ({
        who: m.querySelector('.who').textContent,
        text: m.querySelector('.text').textContent,
        mine: m.classList.contains('mine'),
      })),
    );
  const notices = (page) => page.$$eval('#log .notice', (ns) => ns.map((n) => n.textContent));
  const ui = (page) =>
    page.evaluate(() => ({
      state: document.querySelector('#status').dataset.state,
      status: document.querySelector('#status').textContent,
      online: document.querySelector('#online').textContent,
      inputDisabled: document.querySelector('#text').disabled,
      sendDisabled: document.querySelector('#send').disabled,
      draft: document.querySelector('#text').value,
      me: window.chat.me,
    }));
  const shoot = async (page, name) => {
    const file = path.join(SCREENSHOTS, name);
    await page.screenshot({ path: file });
    screenshots.push(file);
    log(`screenshot ${file}`);
  };
  const send = async (page, text, how = 'Enter') => {
    await page.fill('#text', text);
    if (how === 'Enter') await page.press('#text', 'Enter');
    else await page.click('#send');
  };
  const count = (page) => page.$$eval('#log .msg', (ms) => ms.length);

  before(async () => {
    assert.ok(
      existsSync(CHAT_BIN),
      `no chat binary at ${CHAT_BIN}: run \`cargo build --release --example chat\` or set WSLITE_CHAT_BIN`,
    );
    assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM}: apt-get install -y chromium`);
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    // Always: browser closed, server gone, whatever happened above.
    if (browser) {
      await withTimeout(browser.close(), 10_000, 'browser.close').catch((e) => console.log(`cleanup: ${e.message}`));
    }
    if (server && server.exit === null) {
      server.proc.kill('SIGKILL');
      await withTimeout(server.exited, 5_000, 'server kill').catch(() => {});
    }
    if (screenshots.length) console.log(`screenshots:\n${screenshots.map((f) => `  ${f}`).join('\n')}`);
  });

  step('1. the chat server starts on a free port and says how to quit', async () => {
    let lastError;
    for (let attempt = 1; attempt <= 3 && !server; attempt++) {
      port = await freePort();
      try {
        server = await startServer(port);
      } catch (e) {
        lastError = e;
        log(`attempt ${attempt} on port ${port} failed: ${e.message.split('\n')[0]}`);
        if (!e.exited) break; // retry only when the port was taken meanwhile
      }
    }
    assert.ok(server, `chat did not start: ${lastError}`);
    await waitOut(/quit/);
    log(`${CHAT_BIN} listens on 127.0.0.1:${port} (pid ${server.proc.pid}) and says how to stop it`);
  });

  step('2. two tabs, desktop and mobile, join with their names', async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      chromiumSandbox: false,
      args: CHROMIUM_FLAGS,
      timeout: 30_000,
    });
    // Two contexts: two users, each with storage of its own.
    const open = async (label, options) => {
      const context = await browser.newContext(options);
      context.setDefaultTimeout(WAIT);
      const page = await context.newPage();
      page.on('pageerror', (e) => problems.push(`${label}: page error: ${e.message}`));
      page.on('dialog', (d) => problems.push(`${label}: a dialog: ${d.message()}`));
      page.on('response', (r) => {
        if (r.status() >= 400) problems.push(`${label}: ${r.status()} for ${r.url()}`);
      });
      return page;
    };
    desk = await open('desktop', { viewport: { width: 1280, height: 800 } });
    phone = await open('mobile', { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const base = `http://127.0.0.1:${port}/?room=${encodeURIComponent(ROOM)}`;

    // The phone first, with no name: a random guest's, remembered.
    const response = await phone.goto(base, { timeout: WAIT });
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-type'], /^text\/html/);
    await waitIn(phone, () => window.chat.state === 'connected');
    const guest = await phone.evaluate(() => window.chat.me);
    assert.match(guest, /^guest-\d{4}$/);
    assert.equal(await phone.inputValue('#name'), guest);
    assert.equal(await phone.evaluate(() => localStorage.getItem('wslite-chat-name')), guest);
    assert.equal(await phone.$eval('#title', (h) => h.textContent), `#${ROOM}`);
    const viewport = await phone.evaluate(() => document.querySelector('meta[name=viewport]')?.content);
    assert.match(viewport, /width=device-width/);
    log(`mobile tab: joined as ${JSON.stringify(guest)} (random, kept in localStorage), room "${ROOM}"`);
    // It renames itself in the page: the chat reconnects under the new name.
    await phone.fill('#name', 'bob');
    await phone.press('#name', 'Enter');
    await waitIn(phone, () => window.chat.me === 'bob' && window.chat.state === 'connected');
    assert.equal(await phone.evaluate(() => localStorage.getItem('wslite-chat-name')), 'bob');
    // The page leaves before it joins again, so the counts are 0 and 1;
    // the server's threads may log the two in either order.
    await waitOut(new RegExp(`^${guest} left #${ROOM} from 127\\.0\\.0\\.1:\\d+ \\([01] online\\)$`, 'm'));
    await waitOut(/^bob joined #blue sky from 127\.0\.0\.1:\d+ \([12] online\)$/m);
    log('mobile tab: renamed itself "bob" in the page; the chat logged the guest leaving and bob joining');

    // The desktop tab, named in its address.
    await desk.goto(`${base}&name=alice`, { timeout: WAIT });
    await waitIn(desk, () => window.chat.me === 'alice' && window.chat.state === 'connected');
    await waitOut(/^alice joined #blue sky from 127\.0\.0\.1:\d+ \(2 online\)$/m);
    for (const page of [desk, phone]) await waitIn(page, () => document.querySelector('#online').textContent === '2 online');
    await waitIn(phone, () => [...document.querySelectorAll('.notice')].some((n) => n.textContent.startsWith('alice joined · ')));
    assert.match((await notices(desk)).at(-1), /^you joined #blue sky as alice · \d/);
    for (const [label, page] of [['desktop', desk], ['mobile', phone]]) {
      const u = await ui(page);
      assert.deepEqual([u.state, u.status, u.online, u.inputDisabled, u.sendDisabled], ['connected', 'connected', '2 online', false, false], label);
      const extensions = await page.evaluate(() => window.chat.ws.extensions);
      assert.match(extensions, /^permessage-deflate(;|$)/, `${label}: ws.extensions`);
    }
    log('both tabs: "connected", "2 online", input enabled, permessage-deflate agreed; bob saw "alice joined"');
  });

  step('3. who said what, own lines marked in one tab only, everything shown as text', async () => {
    const lines = [
      [desk, 'alice', 'hi bob! this is the wslite chat', 'Enter'],
      [phone, 'bob', 'hello alice 👋 — héllo wörld κόσμε 日本語', 'click'],
      [desk, 'alice', '<img src=x onerror="window.pwned=1"> <b>not bold</b> & "quotes" \\ backslash', 'Enter'],
      [phone, 'bob', `a long line, wrapped whole: ${'lorem ipsum dolor sit amet '.repeat(4)}and an unbroken one: ${'x'.repeat(120)}`, 'Enter'],
      [desk, 'alice', 'looks good on both screens', 'click'],
    ];
    for (const [n, [page, , text, how]] of lines.entries()) {
      await send(page, text, how);
      for (const p of [desk, phone]) await waitIn(p, (k) => document.querySelectorAll('#log .msg').length >= k, n + 1);
    }
    for (const [label, page, me] of [['desktop', desk, 'alice'], ['mobile', phone, 'bob']]) {
      const got = await messages(page);
      const want = lines.map(([, from, text]) => ({ who: from === me ? 'you' : from, text, mine: from === me }));
      assert.deepEqual(got, want, `${label}: messages`);
      assert.equal(await page.inputValue('#text'), '', `${label}: the input is cleared after sending`);
      const times = await page.$$eval('#log .msg .meta', (ms) => ms.map((m) => m.textContent));
      for (const t of times) assert.match(t, /^(you|alice|bob) · \d{1,2}:\d{2}/, `${label}: a time in ${t}`);
      // Markup typed by a user stays text.
      const injected = await page.evaluate(() => ({ elements: document.querySelectorAll('#log img, #log b').length, pwned: window.pwned ?? null }));
      assert.deepEqual(injected, { elements: 0, pwned: null }, `${label}: markup in a message`);
      // Long lines wrap inside the page: nothing wider than the log.
      const overflow = await page.$eval('#log', (l) => ({ scroll: l.scrollWidth, client: l.clientWidth, body: document.documentElement.scrollWidth, width: innerWidth }));
      assert.ok(overflow.scroll <= overflow.client && overflow.body <= overflow.width, `${label}: horizontal overflow ${JSON.stringify(overflow)}`);
      log(`${label}: ${got.length} messages with the right names, "${me}"'s own ${got.filter((m) => m.mine).length} marked "you"; times shown; markup shown as text; no horizontal overflow`);
    }
    const mineStyle = await desk.$eval('#log .msg.mine', (m) => ({ align: getComputedStyle(m).alignSelf, bg: getComputedStyle(m).backgroundColor }));
    const otherStyle = await desk.$eval('#log .msg:not(.mine)', (m) => ({ align: getComputedStyle(m).alignSelf, bg: getComputedStyle(m).backgroundColor }));
    assert.equal(mineStyle.align, 'flex-end');
    assert.equal(otherStyle.align, 'flex-start');
    assert.notEqual(mineStyle.bg, otherStyle.bg);
    log(`own lines right-aligned on ${mineStyle.bg}, others' left-aligned on ${otherStyle.bg}`);
    await shoot(desk, 'chat-desktop.png');
    await shoot(phone, 'chat-mobile.png');
  });

  step('4. a 1 MiB line from the desktop tab arrives whole in the mobile tab', async () => {
    const before = await count(desk);
    const sent = await desk.evaluate(
      async ({ makeSrc, digestSrc, n }) => {
        const s = eval(`(${makeSrc})`)(n);
        const input = document.querySelector('#text');
        input.value = s; // as if pasted
        document.querySelector('#form').requestSubmit();
        return eval(`(${digestSrc})`)(s);
      },
      { makeSrc: makeBig.toString(), digestSrc: digest.toString(), n: BIG },
    );
    assert.equal(sent.bytes, BIG);
    assert.equal(createHash('sha256').update(makeBig(BIG)).digest('hex'), sent.sha256);
    for (const [label, page] of [['desktop', desk], ['mobile', phone]]) {
      await waitIn(page, (k) => document.querySelectorAll('#log .msg').length > k, before, 20_000);
      const got = await page.evaluate(
        async ({ digestSrc }) => {
          const last = [...document.querySelectorAll('#log .msg')].at(-1);
          const shown = await eval(`(${digestSrc})`)(last.querySelector('.text').textContent);
          const received = await eval(`(${digestSrc})`)(window.chat.received.at(-1).text);
          return { shown, received, who: last.querySelector('.who').textContent, mine: last.classList.contains('mine') };
        },
        { digestSrc: digest.toString() },
      );
      assert.deepEqual(got.shown, sent, `${label}: the 1 MiB line shown differs`);
      assert.deepEqual(got.received, sent, `${label}: the 1 MiB line received differs`);
      assert.deepEqual([got.who, got.mine], label === 'desktop' ? ['you', true] : ['alice', false]);
      log(`${label}: the 1 MiB line is shown whole (${got.shown.length} characters, sha256 ${got.shown.sha256.slice(0, 16)}…), from ${got.who}`);
    }
  });

  step('5. the server is killed: both tabs show it, input disabled, draft kept', async () => {
    await phone.fill('#text', 'typed while the server is down');
    server.proc.kill('SIGKILL');
    await withTimeout(server.exited, WAIT, 'server kill');
    for (const [label, page] of [['desktop', desk], ['mobile', phone]]) {
      await waitIn(page, () => window.chat.state === 'disconnected');
      const u = await ui(page);
      assert.equal(u.state, 'disconnected');
      assert.match(u.status, /^disconnected · reconnecting in \d+ s$/);
      assert.equal(u.inputDisabled, true, `${label}: input disabled`);
      assert.equal(u.sendDisabled, true, `${label}: send disabled`);
      assert.equal(u.online, '', `${label}: no stale count while disconnected`);
      log(`${label}: #status "${u.status}", input and Send disabled, no count shown`);
    }
    assert.equal((await ui(phone)).draft, 'typed while the server is down');
    await shoot(phone, 'chat-mobile-disconnected.png');
  });

  step('6. the server restarts on the same port: both tabs reconnect by themselves and chat again', async () => {
    // The old process's port may take a moment to come free.
    let lastError;
    server = null;
    for (let attempt = 1; attempt <= 20 && !server; attempt++) {
      try {
        server = await startServer(port);
      } catch (e) {
        lastError = e;
        if (!e.exited) break;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    assert.ok(server, `the chat did not start again on ${port}: ${lastError}`);
    const restarted = Date.now();
    for (const [label, page, me] of [['desktop', desk, 'alice'], ['mobile', phone, 'bob']]) {
      await waitIn(page, (name) => window.chat.state === 'connected' && window.chat.me === name, me, 15_000);
      log(`${label}: reconnected by itself as ${me} ${Date.now() - restarted} ms after the restart`);
    }
    for (const page of [desk, phone]) await waitIn(page, () => document.querySelector('#online').textContent === '2 online');
    const u = await ui(phone);
    assert.equal(u.draft, 'typed while the server is down', 'the draft survived the reconnect');
    assert.equal(u.inputDisabled, false);
    const before = await count(desk);
    await phone.press('#text', 'Enter');
    await waitIn(desk, (k) => document.querySelectorAll('#log .msg').length > k, before);
    assert.deepEqual((await messages(desk)).at(-1), { who: 'bob', text: 'typed while the server is down', mine: false });
    log('the draft typed while disconnected went out after the reconnect and reached the other tab');
  });

  step('7. one tab leaves: the other sees the notice and the count', async () => {
    await phone.context().close();
    await waitIn(desk, () => document.querySelector('#online').textContent === '1 online');
    assert.match((await notices(desk)).at(-1), /^bob left · \d/);
    await waitOut(/^bob left #blue sky from 127\.0\.0\.1:\d+ \(1 online\)$/m);
    log('desktop: "bob left", "1 online"; the chat logged it');
  });

  step('8. `quit` closes the tab with 1001, it shows the disconnection, and the server exits 0', async () => {
    server.proc.stdin.write('quit\n');
    await waitIn(desk, () => window.chat.closeCode === 1001);
    await waitIn(desk, () => window.chat.state === 'disconnected');
    const exit = await withTimeout(server.exited, WAIT, 'server exit');
    assert.deepEqual(exit, { code: 0, signal: null }, `server exit; stdout:\n${server.stdout}`);
    assert.match(server.stdout, /shutting down\n(.*\n)*0 connection threads left\n$/);
    log('desktop: close code 1001, "disconnected · reconnecting…"; the chat exited 0 with 0 connection threads left');
    assert.deepEqual(problems, [], 'page errors, dialogs or failed requests');
    log('no page errors, no dialogs, no failed requests');
  });
});
