// Headless Chromium through the frame inspector (examples/inspect.rs) to
// examples/chat.rs: the proof, on the wire, that Chromium and wslite really
// exchange compressed frames (permessage-deflate, RFC 7692). The page's
// `ws.extensions` only says the extension was agreed; the inspector sees
// each frame's RSV1 bit and inflates the payload with its own inflater.
//
//   bash tests/browser/run.sh          # builds both examples, runs every *.test.mjs
//
// Environment: WSLITE_CHAT_BIN, WSLITE_INSPECT_BIN (default
// $CARGO_TARGET_DIR/release/examples/{chat,inspect}), WSLITE_CHROMIUM.
//
// One tab joins a room and sends a 64 KiB JSON-like message; the chat
// broadcasts it back to the same tab. Through the inspector, both the
// tab's frame (masked, → ) and the chat's (← ) must carry RSV1 and inflate
// to what was sent (→ the 65536 bytes, ← the chat's JSON event carrying
// them), and the inspector must see no violation.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const target = process.env.CARGO_TARGET_DIR || 'target';
const CHAT_BIN = path.resolve(process.env.WSLITE_CHAT_BIN || path.join(target, 'release', 'examples', 'chat'));
const INSPECT_BIN = path.resolve(
  process.env.WSLITE_INSPECT_BIN || path.join(target, 'release', 'examples', 'inspect'),
);
const CHROMIUM = process.env.WSLITE_CHROMIUM || '/usr/bin/chromium';
const WAIT = 10_000; // every single wait is bounded by this
const SIZE = 64 << 10;

const log = (msg) => console.log(`  check: ${msg}`);

// Starts a program and resolves with it once its stdout matches `ready`
// (the match is in `.ready`); rejects if it exits first or takes too long.
function start(bin, args, ready) {
  const proc = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const killOnExit = () => proc.kill('SIGKILL');
  process.once('exit', killOnExit);
  const p = { proc, stdout: '', stderr: '', exit: null };
  p.exited = new Promise((resolve) =>
    proc.once('exit', (code, signal) => {
      process.removeListener('exit', killOnExit);
      p.exit = { code, signal };
      resolve(p.exit);
    }),
  );
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => (p.stderr += d));
  proc.stdin.on('error', () => {});
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${bin} not ready within ${WAIT} ms:\n${p.stdout}${p.stderr}`)), WAIT);
    proc.stdout.on('data', (d) => {
      p.stdout += d;
      const m = p.stdout.match(ready);
      if (m && !p.ready) {
        p.ready = m;
        clearTimeout(timer);
        resolve(p);
      }
    });
    proc.once('error', reject);
    p.exited.then((e) => reject(new Error(`${bin} exited: ${JSON.stringify(e)}\n${p.stderr}`)));
  }).catch((e) => {
    proc.kill('SIGKILL');
    throw e;
  });
}

// Deterministic JSON-like text of n characters (as in chat.test.mjs).
function makeJson(n) {
  let s = '[';
  for (let i = 0; s.length < n; i++) {
    s += `{"id":${i},"user":"user-${i}","active":${i % 3 ? 'true' : 'false'},"score":${(i * 7919) % 1000}},`;
  }
  return s.slice(0, n);
}

describe('Chromium → inspector → examples/chat.rs, compressed', { timeout: 60_000 }, () => {
  const running = [];
  let browser;

  after(async () => {
    if (browser) await browser.close().catch((e) => console.log(`cleanup: ${e.message}`));
    for (const p of running) if (p.exit === null) p.proc.kill('SIGKILL');
  });

  it('compressed frames go both ways and inflate to what was sent', async () => {
    for (const bin of [CHAT_BIN, INSPECT_BIN]) {
      assert.ok(existsSync(bin), `no ${bin}: run \`cargo build --release --example chat --example inspect\``);
    }
    assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM}`);

    // Both on ports of the system's choosing, which they print.
    const chat = await start(CHAT_BIN, ['127.0.0.1:0'], /chat on http:\/\/(127\.0\.0\.1:\d+)/);
    running.push(chat);
    const upstream = chat.ready[1];
    // The inspector binds port 0 and prints the address it got.
    const inspector = await start(
      INSPECT_BIN,
      ['127.0.0.1:0', `ws://${upstream}`],
      /inspecting: clients connect to (127\.0\.0\.1:\d+),/,
    );
    running.push(inspector);
    const listen = inspector.ready[1];
    log(`chat on ${upstream}, the inspector in front of it on ${listen}`);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      chromiumSandbox: false,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-quic'],
      timeout: 30_000,
    });
    const page = await browser.newPage();
    page.setDefaultTimeout(WAIT);
    await page.goto(`http://${listen}/?room=deflate`, { timeout: WAIT });
    await page.waitForFunction(() => window.chat && window.chat.state === 'connected', null, { timeout: WAIT });
    const extensions = await page.evaluate(() => window.chat.ws.extensions);
    assert.match(extensions, /^permessage-deflate/);
    // In the room before sending (the handler joins it after the 101).
    const deadline = Date.now() + WAIT;
    while (!/joined #deflate from [\d.:]+ \(1 online\)/.test(chat.stdout)) {
      assert.ok(Date.now() < deadline, `the tab joined the room:\n${chat.stdout}`);
      await new Promise((r) => setTimeout(r, 20));
    }

    // The chat hands the line back inside its JSON event: the size of that
    // text (its UTF-8 bytes) is what the inspector must see inflated.
    await page.evaluate(() => {
      window.rawSizes = [];
      window.chat.ws.addEventListener('message', (e) => window.rawSizes.push(new TextEncoder().encode(e.data).length));
    });
    const text = makeJson(SIZE);
    await page.evaluate((s) => window.chat.ws.send(s), text);
    await page.waitForFunction(() => window.chat.received.some((m) => m.type === 'message'), null, { timeout: WAIT, polling: 50 });
    const echo = await page.evaluate(() => ({ m: window.chat.received.find((m) => m.type === 'message'), size: window.rawSizes.at(-1) }));
    assert.equal(echo.m.text, text, 'the echo of the room');
    const back = echo.size;

    // The inspector prints a message's lines once its last frame is in.
    const seen = (re) => re.test(inspector.stdout);
    const until = Date.now() + WAIT;
    while (!(seen(/→ +compressed \(permessage-deflate\): \d+ bytes on the wire inflated to 65536 bytes/) &&
             seen(new RegExp(`← +compressed \\(permessage-deflate\\): \\d+ bytes on the wire inflated to ${back} bytes`)))) {
      assert.ok(Date.now() < until, `the inspector showed both compressed messages:\n${inspector.stdout}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const out = inspector.stdout;
    assert.match(out, /Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits/, "Chromium's offer");
    assert.match(out, /permessage-deflate agreed \(RFC 7692\)/);
    assert.match(out, /→ text +FIN=\d RSV=100 MASK key=/, "Chromium's compressed frame");
    assert.match(out, /← text +FIN=\d RSV=100 no mask/, "the chat's compressed frame");
    assert.match(out, /→ +inflated: "\[\{\\"id\\":0,\\"user\\":\\"user-0\\"/);
    assert.doesNotMatch(out, /!!/, 'no violation, nothing that does not inflate');
    for (const [way, size] of [['→', SIZE], ['←', back]]) {
      const m = out.match(new RegExp(`${way} +compressed \\(permessage-deflate\\): (\\d+) bytes on the wire inflated to ${size} bytes`));
      const wire = Number(m[1]);
      assert.ok(wire < size / 4, `${way}: ${wire} bytes on the wire for ${size}`);
      log(`${way} ${size} bytes of JSON-like text went as ${wire} bytes of DEFLATE data with RSV1, and inflated intact`);
    }
  });
});
