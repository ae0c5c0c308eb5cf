// A Node `ws` peer with permessage-deflate (RFC 7692), for the compression
// tests of tests/interop_node.rs: a client against wslite's server, or a
// server for wslite's client. Both echo-check the messages of MESSAGES.
//
//   node deflate_peer.mjs client URL OPTIONS_JSON
//   node deflate_peer.mjs server OPTIONS_JSON
//
// OPTIONS_JSON is ws's `perMessageDeflate` option (e.g. {"serverMaxWindowBits":
// 9, "threshold": 0}), or `false`. Output: one flat JSON object per line.
//
//   {"event":"listening","port":N,"version":V}          (server, first)
//   {"event":"open","extensions":E,"offer":O,"answer":A,
//    "server_max_window_bits":..,"client_max_window_bits":..,
//    "server_no_context_takeover":..,"client_no_context_takeover":..}
//   {"event":"echo","name":..,"size":N,"intact":B,
//    "sent_rsv1":B,"sent_wire":N,"sent_frames":N,
//    "received_rsv1":B,"received_wire":N,"received_frames":N,
//    "socket_read":N,"socket_written":N}                  (one per message)
//   {"event":"closed","code":N,"reason":R}
//
// `extensions` is `ws.extensions` (the extension names agreed); the window
// and takeover fields are the parameters ws agreed (absent: not named). The
// sent_*/received_* fields come from parsing the bytes on the socket itself
// (`Wire` below), both directions, one data message at a time: RSV1 of its
// first frame, its payload bytes on the wire, its number of frames. That is
// the proof that compressed frames went each way; socket_read/written are
// the socket's byte counts over the message and its echo. The client sends
// every message of MESSAGES and checks each echo against the generator; the
// server echoes each message and checks it. Exit status 0 after a close,
// 2 with {"event":"timeout"} when the exchange did not end in time, 1 on bad
// arguments.

import { readFileSync } from "node:fs";
import WebSocket, { WebSocketServer } from "ws";

const TIMEOUT_MS = 20000;

const version = JSON.parse(
  readFileSync(new URL("./node_modules/ws/package.json", import.meta.url), "utf8"),
).version;

function emit(fields) {
  process.stdout.write(JSON.stringify(fields) + "\n");
}

function finish(status) {
  // Exit once stdout is flushed.
  process.stdout.write("", () => process.exit(status));
}

// ---------------------------------------------------------------------------
// Payloads: the same bytes as tests/interop/generators.rs and
// tests/interop/common.py.

const KIB = 1024;
const MIB = 1024 * KIB;
// As common.DEFLATE_MESSAGES.
const MESSAGES = [
  ["text", 100],
  ["random", 2 * KIB],
  ["random", 2 * KIB],
  ["text", 10 * KIB],
  ["json", MIB],
  ["random", 64 * KIB],
  ["binary", 100 * KIB],
];
const TEXT_UNIT = Buffer.from("wslite→Python ✓ é 😀 interop; ", "utf8");

function payload(name, size) {
  const out = Buffer.alloc(size);
  if (name === "binary") {
    for (let i = 0; i < size; i++) out[i] = ((i % 251) * 31 + 7) & 0xff;
  } else if (name === "random") {
    let x = 2463534242;
    for (let i = 0; i < size; i++) {
      x = (x ^ (x << 13)) >>> 0;
      x = (x ^ (x >>> 17)) >>> 0;
      x = (x ^ (x << 5)) >>> 0;
      out[i] = x & 0xff;
    }
  } else if (name === "json") {
    const parts = ["["];
    let len = 1;
    for (let n = 0; len < size; n++) {
      const record =
        `{"id":${n},"user":"user-${n}","active":${n % 3 ? "true" : "false"},` +
        `"score":${(n * 7919) % 1000},"tags":["alpha","beta"]},`;
      parts.push(record);
      len += record.length;
    }
    Buffer.from(parts.join(""), "ascii").copy(out, 0, 0, size);
  } else if (name === "text") {
    for (let i = 0; i < size; i++) out[i] = TEXT_UNIT[i % TEXT_UNIT.length];
    // The cut may split the last character: dots replace its bytes.
    let lead = size - 1;
    while (lead >= 0 && (out[lead] & 0xc0) === 0x80) lead--;
    if (lead >= 0) {
      const b = out[lead];
      const need = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      if (lead + need > size) out.fill(0x2e, lead);
    }
  } else {
    throw new Error(`no generator ${name}`);
  }
  return out;
}

const isText = (name) => name === "text" || name === "json";

// Whether `data` is what a generator of its kind makes.
function generated(data, binary) {
  const names = binary ? ["binary", "random"] : ["text", "json"];
  return names.some((name) => payload(name, data.length).equals(data));
}

// ---------------------------------------------------------------------------
// The bytes on the socket, parsed into frames (RFC 6455 §5.2), one direction
// per Wire: data messages as [rsv1 of the first frame, payload bytes, frames].

class Wire {
  constructor() {
    this.buf = Buffer.alloc(0);
    this.skip = 0; // payload bytes of the current frame still to come
    this.current = null; // the data message in progress
    this.messages = [];
  }

  feed(chunk) {
    let data = Buffer.from(chunk);
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, data.length);
        this.skip -= n;
        data = data.subarray(n);
        if (this.skip > 0 || data.length === 0) return;
      }
      this.buf = Buffer.concat([this.buf, data]);
      data = Buffer.alloc(0);
      if (this.buf.length < 2) return;
      const b0 = this.buf[0];
      const b1 = this.buf[1];
      let len = b1 & 0x7f;
      let at = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        at = 10;
      }
      if (b1 & 0x80) at += 4; // masking key
      if (this.buf.length < at) return;
      this.frame(b0, len);
      data = this.buf.subarray(at);
      this.buf = Buffer.alloc(0);
      this.skip = len;
      if (len === 0 && data.length === 0) return;
    }
  }

  frame(b0, len) {
    const opcode = b0 & 0x0f;
    if (opcode >= 8) return; // control frames are not part of a message
    if (opcode !== 0) this.current = { rsv1: (b0 & 0x40) !== 0, wire: 0, frames: 0 };
    if (!this.current) return;
    this.current.wire += len;
    this.current.frames += 1;
    if (b0 & 0x80) {
      this.messages.push(this.current);
      this.current = null;
    }
  }

  take() {
    return this.messages.shift() || { rsv1: null, wire: null, frames: null };
  }
}

// Taps a connection's socket: what it reads and what ws writes to it.
function tap(ws) {
  const received = new Wire();
  const sent = new Wire();
  const socket = ws._socket;
  socket.on("data", (chunk) => received.feed(chunk));
  const write = socket.write.bind(socket);
  socket.write = (chunk, ...rest) => {
    if (typeof chunk !== "string") sent.feed(chunk);
    return write(chunk, ...rest);
  };
  return { received, sent, socket };
}

function openLine(ws, offer, answer) {
  const deflate = ws._extensions["permessage-deflate"];
  const params = (deflate && deflate.params) || {};
  const fields = { event: "open", extensions: ws.extensions, offer, answer, version };
  for (const key of [
    "server_max_window_bits",
    "client_max_window_bits",
    "server_no_context_takeover",
    "client_no_context_takeover",
  ]) {
    if (key in params) fields[key] = params[key];
  }
  emit(fields);
}

function echoLine(name, size, intact, taps, before) {
  const s = taps.sent.take();
  const r = taps.received.take();
  emit({
    event: "echo",
    name,
    size,
    intact,
    sent_rsv1: s.rsv1,
    sent_wire: s.wire,
    sent_frames: s.frames,
    received_rsv1: r.rsv1,
    received_wire: r.wire,
    received_frames: r.frames,
    socket_read: taps.socket.bytesRead - before.read,
    socket_written: taps.socket.bytesWritten - before.written,
  });
}

const counts = (socket) => ({ read: socket.bytesRead, written: socket.bytesWritten });

// ---------------------------------------------------------------------------

function client(url, perMessageDeflate) {
  const ws = new WebSocket(url, { perMessageDeflate, handshakeTimeout: TIMEOUT_MS });
  // The request ws is making (it drops it after the handshake).
  const offer = (ws._req && ws._req.getHeader("sec-websocket-extensions")) || null;
  let answer = null;
  ws.on("upgrade", (res) => {
    answer = res.headers["sec-websocket-extensions"] || null;
  });
  ws.on("open", async () => {
    const taps = tap(ws);
    openLine(ws, offer, answer);
    for (const [name, size] of MESSAGES) {
      const data = payload(name, size);
      const before = counts(taps.socket);
      const echo = new Promise((resolve) => ws.once("message", (d, b) => resolve([d, b])));
      ws.send(data, { binary: !isText(name) });
      const [got, binary] = await echo;
      // Let the tap see the last bytes of the echo (ws reads them first).
      await new Promise((resolve) => setImmediate(resolve));
      const intact = binary === !isText(name) && Buffer.from(got).equals(data);
      echoLine(name, size, intact, taps, before);
    }
    ws.close(1000, "done");
  });
  ws.on("error", (err) => emit({ event: "error", error: String(err.message || err) }));
  ws.on("close", (code, reason) => {
    emit({ event: "closed", code, reason: reason.toString("utf8") });
    finish(0);
  });
}

function server(perMessageDeflate) {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate });
  let answer = null;
  wss.on("headers", (headers) => {
    const line = headers.find((h) => /^sec-websocket-extensions:/i.test(h));
    answer = line ? line.replace(/^[^:]*:\s*/, "") : null;
  });
  wss.on("listening", () => emit({ event: "listening", port: wss.address().port, version }));
  wss.on("connection", (ws, req) => {
    const taps = tap(ws);
    openLine(ws, req.headers["sec-websocket-extensions"] || null, answer);
    let before = counts(taps.socket);
    ws.on("message", (data, binary) => {
      const size = data.length;
      const name = binary ? "binary" : "text";
      const intact = generated(Buffer.from(data), binary);
      ws.send(data, { binary }, () => {
        echoLine(name, size, intact, taps, before);
        before = counts(taps.socket);
      });
    });
    ws.on("close", (code, reason) => {
      emit({ event: "closed", code, reason: reason.toString("utf8") });
      wss.close();
      finish(0);
    });
  });
}

const [role, ...args] = process.argv.slice(2);
setTimeout(() => {
  emit({ event: "timeout" });
  finish(2);
}, TIMEOUT_MS).unref();
if (role === "client" && args.length === 2) {
  client(args[0], JSON.parse(args[1]));
} else if (role === "server" && args.length === 1) {
  server(JSON.parse(args[0]));
} else {
  process.stderr.write(
    "usage: node deflate_peer.mjs client URL OPTIONS_JSON | server OPTIONS_JSON\n",
  );
  process.exit(1);
}
