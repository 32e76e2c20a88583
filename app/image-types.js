'use strict';
// Recognises an image by its first bytes. Cheap first line of defence: the worker decodes
// every upload again with Pillow before it is used.

const SIGNATURES = [
  ['image/png', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  ['image/jpeg', [0xff, 0xd8, 0xff]],
  ['image/gif', Buffer.from('GIF87a')],
  ['image/gif', Buffer.from('GIF89a')],
  ['image/bmp', Buffer.from('BM')],
  ['image/tiff', [0x49, 0x49, 0x2a, 0x00]],
  ['image/tiff', [0x4d, 0x4d, 0x00, 0x2a]],
];

function imageType(buf) {
  if (!Buffer.isBuffer(buf)) return null;
  for (const [type, sig] of SIGNATURES) {
    if (buf.length >= sig.length && sig.every((b, i) => buf[i] === b)) return type;
  }
  if (buf.length >= 12 && buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WEBP') {
    return 'image/webp';
  }
  return null;
}

module.exports = { imageType };
