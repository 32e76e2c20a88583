'use strict';
// A minimal PNG encoder (8-bit RGB), so the tests make their own photos.
const zlib = require('node:zlib');

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

// zlib's where Node has it (20.15+): the JS loop takes a second over a 20 MB image.
const crc32 = zlib.crc32 ? (buf) => zlib.crc32(buf) : (buf) => {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

// pixel(x, y) -> [r, g, b], 0..255. level: zlib level (0 makes a file as large as its pixels).
function encodePng(width, height, pixel, options) {
  const rgb = Buffer.alloc(width * height * 3);
  let i = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      rgb[i++] = r;
      rgb[i++] = g;
      rgb[i++] = b;
    }
  }
  return encodeRgb(width, height, rgb, options);
}

// The same from the pixels as a buffer, row by row, 3 bytes a pixel: fast for large images (a
// test's loop blocked for seconds makes its next request race the server's keep-alive timeout).
function encodeRgb(width, height, rgb, { level = 6 } = {}) {
  const row = width * 3;
  const raw = Buffer.alloc((row + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (row + 1)] = 0; // filter: none
    rgb.copy(raw, y * (row + 1) + 1, y * row, (y + 1) * row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(raw, { level })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// A smooth gradient, different for each index.
function gradientPng(size, index) {
  const phase = index * 0.7;
  return encodePng(size, size, (x, y) => {
    const u = x / (size - 1);
    const v = y / (size - 1);
    return [
      Math.round(255 * (0.5 + 0.5 * Math.sin(phase + 3 * u))),
      Math.round(255 * (0.5 + 0.5 * Math.cos(phase + 2 * v))),
      Math.round(255 * (u * v + (index % 3) / 6) % 256),
    ].map((c) => Math.max(0, Math.min(255, c)));
  });
}

module.exports = { encodePng, encodeRgb, gradientPng };
