// A texture as the network sees it: scaled so its long side is style_size px, drawn at
// exactly that many pixels (scrolls when wider than the page).
import { h } from './dom.js';
import { textureImage } from './api.js';

const images = new Map(); // name -> Promise<HTMLImageElement>

function loadImage(name) {
  if (!images.has(name)) {
    images.set(name, new Promise((resolve, reject) => {
      const img = new Image();
      img.decoding = 'async';
      img.onload = () => resolve(img);
      img.onerror = () => {
        images.delete(name);
        reject(new Error('the texture image did not load'));
      };
      img.src = textureImage(name);
    }));
  }
  return images.get(name);
}

function scaledSize(width, height, styleSize) {
  const s = styleSize / Math.max(width, height);
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
}

// Returns {el, update(name, styleSize)}.
export function networkView() {
  // Hidden until drawn: an empty canvas would show as a blank 300x150 box while the image loads.
  const canvas = h('canvas', { class: 'network-canvas', role: 'img', width: 0, height: 0, hidden: true });
  const caption = h('figcaption', { class: 'muted small' });
  const el = h('figure', { class: 'network-view' }, h('div', { class: 'network-scroll', tabindex: '0', 'aria-label': 'Texture at training size (scrolls)' }, canvas), caption);
  let token = 0;
  async function update(name, styleSize) {
    const mine = ++token;
    if (!name) {
      canvas.width = canvas.height = 0;
      canvas.hidden = true;
      caption.textContent = '';
      return;
    }
    let img;
    try {
      img = await loadImage(name);
    } catch (err) {
      if (mine === token) caption.textContent = err.message;
      return;
    }
    if (mine !== token) return;
    const { width, height } = scaledSize(img.naturalWidth, img.naturalHeight, styleSize);
    // Drawn at that many device pixels' worth of CSS pixels: what the loss network gets.
    canvas.width = width;
    canvas.height = height;
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    const ctx = canvas.getContext('2d');
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(img, 0, 0, width, height);
    canvas.hidden = false;
    canvas.setAttribute('aria-label', `${name} at ${width} by ${height} pixels`);
    caption.textContent = `${img.naturalWidth}×${img.naturalHeight} original, seen by the network at ${width}×${height} px (style size ${styleSize}).`;
  }
  return { el, update };
}
