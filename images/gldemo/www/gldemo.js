// The article's pattern: the picoprocess sends messages, and these stubs turn each one into a
// call of the page. The stream (GET frames, relative to this page: /.xax/ID/frames) is
//   u32 length (big-endian, of what follows) | u8 call | arguments
// with the calls 'S' setStatus(text) and 'F' drawFrame(n, width, height, rgb) (server.c).
"use strict";

const canvas = document.getElementById("view");
const ctx = canvas.getContext("2d", {willReadFrequently: true});
let drawn = 0;

function setStatus(text) {
  document.getElementById("status").textContent = text;
}

function drawFrame(n, width, height, rgb) {
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const image = ctx.createImageData(width, height);
  const px = image.data;
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    px[j] = rgb[i];
    px[j + 1] = rgb[i + 1];
    px[j + 2] = rgb[i + 2];
    px[j + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
  canvas.dataset.frame = n;  // which frame the canvas shows, for whoever looks (the tests do)
  document.getElementById("frames").textContent = ++drawn;
}

const stubs = {
  S: (args) => setStatus(new TextDecoder().decode(args)),
  F: (args, view) => drawFrame(view.getUint32(0), view.getUint16(4), view.getUint16(6), args.subarray(8)),
};

// A growing buffer of what has arrived; whole messages are taken off its front.
class Messages {
  constructor() { this.buf = new Uint8Array(1 << 20); this.start = 0; this.end = 0; }
  push(chunk) {
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start;
      const bigger = new Uint8Array(Math.max(this.buf.length, 2 * (live + chunk.length)));
      bigger.set(this.buf.subarray(this.start, this.end));
      this.buf = bigger; this.start = 0; this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }
  *take() {
    while (this.end - this.start >= 4) {
      const view = new DataView(this.buf.buffer, this.start);
      const len = view.getUint32(0);
      if (this.end - this.start < 4 + len) return;
      yield this.buf.subarray(this.start + 4, this.start + 4 + len);
      this.start += 4 + len;
    }
  }
}

async function run() {
  const response = await fetch("frames");
  if (!response.ok) throw new Error(`frames: HTTP ${response.status}`);
  const reader = response.body.getReader();
  const messages = new Messages();
  for (;;) {
    const {done, value} = await reader.read();
    if (done) break;
    messages.push(value);
    for (const msg of messages.take()) {
      const stub = stubs[String.fromCharCode(msg[0])];
      const args = msg.slice(1);
      if (stub) stub(args, new DataView(args.buffer, args.byteOffset, args.length));
    }
  }
  setStatus("the stream ended");
}

run().catch((e) => setStatus("error: " + e.message));
