// End-to-end test of examples/chat.rs in real headless Chromium.
//
//   bash tests/browser/run.sh          # installs what is missing, builds, runs
//   node --test tests/browser/         # when chromium, node_modules and the example exist
//
// Environment:
//   WSLITE_CHAT_BIN      the chat binary (default $CARGO_TARGET_DIR/release/examples/chat,
//                        $CARGO_TARGET_DIR defaulting to ./target)
//   WSLITE_CHROMIUM      the browser (default /usr/bin/chromium)
//   WSLITE_SCREENSHOT    where the screenshot after step 6 goes (default /tmp/chat.png)
//
// The steps depend on each other and run in order; once one fails, the rest
// are skipped (not left to time out). The `after` hook always closes the
// browser and kills the server.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';

const CHAT_BIN = path.resolve(
  process.env.WSLITE_CHAT_BIN ||
    path.join(process.env.CARGO_TARGET_DIR || 'target', 'release', 'examples', 'chat'),
);
const CHROMIUM = process.env.WSLITE_CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT = process.env.WSLITE_SCREENSHOT || '/tmp/chat.png';
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
const JSONISH = 64 << 10; // 64 KiB of JSON-like records: compresses well

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

// Deterministic JSON-like text of n characters, repetitive like real JSON.
function makeJson(n) {
  let s = '[';
  for (let i = 0; s.length < n; i++) {
    s += `{"id":${i},"user":"user-${i}","active":${i % 3 ? 'true' : 'false'},"score":${(i * 7919) % 1000}},`;
  }
  return s.slice(0, n);
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

describe('examples/chat.rs in headless Chromium', { timeout: 60_000 }, () => {
  let server;
  let browser;
  let tabs = [];
  let problems = []; // page errors and failed requests, checked at the end
  let userDataDir = null; // Playwright's temporary profile, removed on close
  let broken = null; // the first failed step; later steps are skipped

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

  before(async () => {
    assert.ok(
      existsSync(CHAT_BIN),
      `no chat binary at ${CHAT_BIN}: run \`cargo build --release --example chat\` or set WSLITE_CHAT_BIN`,
    );
    assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM}: apt-get install -y chromium`);
  });

  after(async () => {
    // Always: browser closed, server gone, whatever happened above.
    if (browser) {
      await withTimeout(browser.close(), 10_000, 'browser.close').catch((e) => console.log(`cleanup: ${e.message}`));
      if (userDataDir && existsSync(userDataDir)) console.log(`cleanup: ${userDataDir} was left behind`);
    }
    if (server && server.exit === null) {
      server.proc.kill('SIGKILL');
      await withTimeout(server.exited, 5_000, 'server kill').catch(() => {});
    }
  });

  step('1. the chat server starts on a free port and listens', async () => {
    let lastError;
    for (let attempt = 1; attempt <= 3 && !server; attempt++) {
      const port = await freePort();
      try {
        server = await startServer(port);
      } catch (e) {
        lastError = e;
        log(`attempt ${attempt} on port ${port} failed: ${e.message.split('\n')[0]}`);
        // Retry only when it exited, say because the port was taken meanwhile.
        if (!e.exited) break;
      }
    }
    assert.ok(server, `chat did not start: ${lastError}`);
    log(`${CHAT_BIN} listens on 127.0.0.1:${server.port} (pid ${server.proc.pid})`);
  });

  step('2. two tabs load the page and connect', async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      chromiumSandbox: false,
      args: CHROMIUM_FLAGS,
      timeout: 30_000,
    });
    // Prove the flags reached the browser (beside Playwright's own defaults
    // and those Debian's /usr/bin/chromium wrapper adds).
    const version = await browser.newPage();
    await version.goto('chrome://version', { timeout: WAIT });
    const argv = (await version.textContent('#command_line')).trim().split(/\s+/);
    await version.close();
    for (const flag of CHROMIUM_FLAGS) {
      assert.ok(argv.includes(flag), `chromium command line lacks ${flag}: ${argv.join(' ')}`);
    }
    const dataDir = argv.find((a) => a.startsWith('--user-data-dir='))?.slice('--user-data-dir='.length);
    assert.ok(dataDir && dataDir.includes('playwright_chromiumdev_profile-'), `user data dir: ${argv.join(' ')}`);
    userDataDir = dataDir;
    log(`Chromium ${browser.version()} runs with ${CHROMIUM_FLAGS.join(' ')} and a fresh --user-data-dir=${dataDir}`);

    const context = await browser.newContext({ viewport: { width: 800, height: 700 } });
    context.setDefaultTimeout(WAIT);
    // Both tabs in one room, named in the page's query as a user would.
    const url = `http://127.0.0.1:${server.port}/?room=blue%20sky`;
    for (let i = 0; i < 2; i++) {
      const page = await context.newPage();
      page.on('pageerror', (e) => problems.push(`tab ${i}: page error: ${e.message}`));
      page.on('response', (r) => {
        // The page has no icon, so Chromium's /favicon.ico gets the 404 it should.
        const url = new URL(r.url());
        if (r.status() >= 400 && url.pathname !== '/favicon.ico') {
          problems.push(`tab ${i}: ${r.status()} for ${r.url()}`);
        }
      });
      const response = await page.goto(url, { timeout: WAIT });
      assert.equal(response.status(), 200);
      assert.match(response.headers()['content-type'], /^text\/html/);
      tabs.push(page);
    }
    for (const [i, page] of tabs.entries()) {
      await waitIn(page, () => window.chat && window.chat.ws.readyState === 1);
      await waitIn(page, () => document.querySelector('#status').textContent === 'connected');
      assert.equal(await page.evaluate(() => window.chat.ws.url), `ws://127.0.0.1:${server.port}/ws?room=blue%20sky`);
      assert.equal(await page.$eval('h1', (h) => h.textContent), 'wslite chat: blue sky');
      log(`tab ${i}: page loaded (200 text/html), #status is "connected", chat.ws.readyState is 1, room "blue sky"`);
      // Chromium offers permessage-deflate (RFC 7692); the chat accepts it
      // with its defaults, and ws.extensions is the server's answer.
      const extensions = await page.evaluate(() => window.chat.ws.extensions);
      assert.match(extensions, /^permessage-deflate(;|$)/, `tab ${i}: ws.extensions`);
      log(`tab ${i}: ws.extensions is ${JSON.stringify(extensions)}`);
    }
    // Connected is not yet in the room (the 101 comes before the handler
    // joins it): the chat logs each join, with the tab's address.
    const deadline = Date.now() + WAIT;
    while (!/joined #blue sky \(2 there\)/.test(server.stdout)) {
      assert.ok(Date.now() < deadline, `both tabs in the room within ${WAIT} ms:\n${server.stdout}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(server.stdout, /^127\.0\.0\.1:\d+ joined #blue sky \(1 there\)$/m);
    log('the chat logged both tabs joining "blue sky", each with its address');
  });

  const received = (page) => page.evaluate(() => window.chat.received);
  const shown = (page) => page.$$eval('#log p', (ps) => ps.map((p) => p.textContent));

  step('3. messages typed in each tab reach both tabs', async () => {
    const [a, b] = tabs;
    const first = 'hello from tab 0';
    const second = 'and hello back from tab 1';

    // Tab 0: type and press Enter. Tab 1: type and click Send.
    await a.fill('#text', first);
    await a.press('#text', 'Enter');
    for (const page of tabs) await waitIn(page, (n) => window.chat.received.length >= n, 1);
    await b.fill('#text', second);
    await b.click('#form button');
    for (const page of tabs) await waitIn(page, (n) => window.chat.received.length >= n, 2);

    for (const [i, page] of tabs.entries()) {
      assert.deepEqual(await received(page), [first, second], `tab ${i}: chat.received`);
      assert.deepEqual(await shown(page), [first, second], `tab ${i}: #log`);
      assert.equal(await page.inputValue('#text'), '', `tab ${i}: the input is cleared after sending`);
      log(`tab ${i}: #log and chat.received are exactly [${JSON.stringify(first)}, ${JSON.stringify(second)}]`);
    }
  });

  step('4. a 1 MiB text message from tab 0 arrives intact in tab 1', async () => {
    const [a] = tabs;
    const sent = await a.evaluate(
      async ({ makeSrc, digestSrc, n }) => {
        const makeBig = eval(`(${makeSrc})`);
        const digest = eval(`(${digestSrc})`);
        const s = makeBig(n);
        window.chat.ws.send(s);
        return digest(s);
      },
      { makeSrc: makeBig.toString(), digestSrc: digest.toString(), n: BIG },
    );
    assert.equal(sent.bytes, BIG);
    // Cross-check the in-page hash with Node's: the generator is the same code.
    assert.equal(createHash('sha256').update(makeBig(BIG)).digest('hex'), sent.sha256);

    for (const [i, page] of tabs.entries()) {
      await waitIn(page, (n) => window.chat.received.length >= n, 3, 15_000);
      const got = await page.evaluate(
        async ({ digestSrc }) => eval(`(${digestSrc})`)(window.chat.received[2]),
        { digestSrc: digest.toString() },
      );
      assert.deepEqual(got, sent, `tab ${i}: the 1 MiB message differs`);
      const last = (await shown(page)).at(-1);
      assert.equal(last, `(${BIG} characters)`, `tab ${i}: #log`);
      log(`tab ${i}: got ${got.length} characters, sha256 ${got.sha256.slice(0, 16)}…, samples match; #log shows "${last}"`);
    }
  });

  step('5. a 64 KiB JSON-like message from tab 1 arrives intact in both tabs (compressed both ways)', async () => {
    const [, b] = tabs;
    const sent = await b.evaluate(
      async ({ makeSrc, digestSrc, n }) => {
        const make = eval(`(${makeSrc})`);
        const digest = eval(`(${digestSrc})`);
        const s = make(n);
        window.chat.ws.send(s);
        return digest(s);
      },
      { makeSrc: makeJson.toString(), digestSrc: digest.toString(), n: JSONISH },
    );
    assert.equal(sent.bytes, JSONISH);
    assert.equal(createHash('sha256').update(makeJson(JSONISH)).digest('hex'), sent.sha256);
    for (const [i, page] of tabs.entries()) {
      await waitIn(page, (n) => window.chat.received.length >= n, 4);
      const got = await page.evaluate(
        async ({ digestSrc }) => eval(`(${digestSrc})`)(window.chat.received[3]),
        { digestSrc: digest.toString() },
      );
      assert.deepEqual(got, sent, `tab ${i}: the 64 KiB message differs`);
      log(`tab ${i}: got ${got.length} characters of JSON-like text, sha256 ${got.sha256.slice(0, 16)}…`);
    }
  });

  step('6. multi-byte UTF-8 arrives unchanged', async () => {
    const [a, b] = tabs;
    const text = 'héllo wörld κόσμε 😀 日本語';
    // Sent through the UI of tab 1 this time.
    await b.fill('#text', text);
    await b.press('#text', 'Enter');
    for (const [i, page] of tabs.entries()) {
      await waitIn(page, (n) => window.chat.received.length >= n, 5);
      const got = await page.evaluate(() => {
        const s = window.chat.received[4];
        return { s, codePoints: [...s].map((c) => c.codePointAt(0)), bytes: new TextEncoder().encode(s).length };
      });
      assert.equal(got.s, text, `tab ${i}: chat.received`);
      assert.deepEqual(got.codePoints, [...text].map((c) => c.codePointAt(0)));
      assert.equal(got.bytes, Buffer.byteLength(text, 'utf8'));
      assert.equal((await shown(page)).at(-1), text, `tab ${i}: #log`);
      log(`tab ${i}: ${JSON.stringify(text)} (${got.bytes} UTF-8 bytes, ${got.codePoints.length} code points) unchanged in chat.received and #log`);
    }
    assert.deepEqual(await received(a).then((r) => r.length), 5, 'no extra messages');
    await a.screenshot({ path: SCREENSHOT, fullPage: true });
    log(`screenshot of tab 0 in ${SCREENSHOT}`);
  });

  step('7. `quit` on stdin closes every tab with 1001 and the server exits 0', async () => {
    for (const page of tabs) {
      await page.evaluate(() => {
        window.chat.ws.addEventListener('close', (e) => (window.chat.wasClean = e.wasClean));
      });
    }
    server.proc.stdin.write('quit\n');
    for (const [i, page] of tabs.entries()) {
      await waitIn(page, () => window.chat.closeCode !== null);
      const { code, wasClean, status } = await page.evaluate(() => ({
        code: window.chat.closeCode,
        wasClean: window.chat.wasClean,
        status: document.querySelector('#status').textContent,
      }));
      assert.equal(code, 1001, `tab ${i}: close code`);
      assert.equal(wasClean, true, `tab ${i}: close was not clean`);
      assert.match(status, /^closed: 1001/);
      log(`tab ${i}: closed cleanly with code 1001, #status is ${JSON.stringify(status)}`);
    }
    const exit = await withTimeout(server.exited, WAIT, 'server exit');
    assert.deepEqual(exit, { code: 0, signal: null }, `server exit; stdout:\n${server.stdout}`);
    assert.match(server.stdout, /shutting down\n/);
    const left = server.stdout.match(/(\d+) connection threads left/);
    assert.ok(left, `no thread count in stdout:\n${server.stdout}`);
    assert.equal(left[1], '0', 'connection threads left after shutdown');
    log(`server exited with code 0 and printed "${left[0]}"`);
    assert.deepEqual(problems, [], 'page errors or failed requests');
    log('no page errors, no failed requests (besides /favicon.ico)');
  });
});
