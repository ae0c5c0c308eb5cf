// A Node `ws` client, the peer of tests/interop_node.rs: sends one binary
// message larger than the server's limit, in one frame, and reports how the
// connection ended.
//
//   node oversize_client.mjs URL [SIZE_BYTES] [TIMEOUT_MS]
//
// SIZE_BYTES defaults to 4 MiB, TIMEOUT_MS to 20000. Prints exactly one JSON
// line, then exits:
//
//   {"event":"closed","code":N,"reason":"...","sent":S,"error":E,"version":V}
//
// `code` and `reason` are what `ws` reports in its `close` event: the code of
// the peer's Close frame, or 1006 when the TCP connection ended without one
// (RFC 6455 §7.1.5), e.g. reset while the frame was still being written.
// `sent` is true once `ws` had handed the whole frame to the socket, false if
// the send failed, null if it had not finished; `error` the message of an
// `error` event (e.g. ECONNRESET), or null. Exit status 0 after a `close`
// event, whatever its code (the test judges); 2 with {"event":"timeout",...}
// when nothing ended the connection within TIMEOUT_MS; 1 on bad arguments.

import { readFileSync } from "node:fs";
import WebSocket from "ws";

const [url, sizeArg = String(4 * 1024 * 1024), timeoutArg = "20000"] = process.argv.slice(2);
const size = Number(sizeArg);
const timeoutMs = Number(timeoutArg);
if (!url || !Number.isSafeInteger(size) || size < 0 || !(timeoutMs > 0)) {
  process.stderr.write("usage: node oversize_client.mjs URL [SIZE_BYTES] [TIMEOUT_MS]\n");
  process.exit(1);
}

const version = JSON.parse(
  readFileSync(new URL("./node_modules/ws/package.json", import.meta.url), "utf8"),
).version;

function report(fields, status) {
  process.stdout.write(JSON.stringify({ ...fields, size, version }) + "\n", () =>
    process.exit(status),
  );
}

// The same generator as `payload` in tests/interop_python.rs (period 251).
const data = Buffer.allocUnsafe(size);
for (let i = 0; i < size; i++) data[i] = ((i % 251) * 31 + 7) & 0xff;

let sent = null;
let error = null;
const ws = new WebSocket(url, {
  // No extension: wslite has none, and the frame must be `size` bytes.
  perMessageDeflate: false,
  handshakeTimeout: timeoutMs,
});

const timer = setTimeout(() => {
  report({ event: "timeout", sent, error, state: ws.readyState }, 2);
  ws.terminate();
}, timeoutMs);

ws.on("open", () => {
  // One message, one frame: `ws` fragments only what `send` is told to.
  ws.send(data, { binary: true, fin: true }, (err) => {
    sent = !err;
    if (err && error === null) error = String(err.message || err);
  });
});
ws.on("error", (err) => {
  if (error === null) error = String(err.code || err.message || err);
});
ws.on("close", (code, reason) => {
  clearTimeout(timer);
  report({ event: "closed", code, reason: reason.toString("utf8"), sent, error }, 0);
});
