'use strict';
// Shared by the browser tests: a generated photo folder, the real server (which spawns the
// real worker service) in a temporary directory, Chromium through playwright-core (Debian's, or
// the one `npm i` brings: ./chromium.js),
// console error collection and screenshots.
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { spawn } = require('node:child_process');
const { resolveChromium, launchChromium } = require('./chromium');

const ROOT = path.resolve(__dirname, '..', '..');
const SHOTS = path.join(ROOT, 'artifacts', 'screenshots');

// -- a tiny PNG encoder ------------------------------------------------------------------------
const CRC_TABLE = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(buf) {
  let c = -1;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
// rgb(x, y) -> [r, g, b] in 0..255
function encodePng(width, height, rgb) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const [r, g, b] = rgb(x, y);
      raw.set([r, g, b].map((v) => Math.max(0, Math.min(255, Math.round(v)))), row + 1 + x * 3);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8 bit, truecolour, deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0)),
  ]);
}

// `count` smooth gradient photos of 48..64 px in `dir`.
function makeDataset(dir, count = 10) {
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const w = 48 + (i % 3) * 8;
    const h = 64 - (i % 2) * 8;
    const hue = (i / count) * Math.PI * 2;
    const png = encodePng(w, h, (x, y) => {
      const u = x / (w - 1);
      const v = y / (h - 1);
      return [
        127 + 110 * Math.sin(hue + u * 2.2),
        127 + 110 * Math.sin(hue + 2.1 + v * 2.6),
        127 + 110 * Math.sin(hue + 4.2 + (u + v) * 1.4),
      ];
    });
    fs.writeFileSync(path.join(dir, `photo_${String(i).padStart(2, '0')}.png`), png);
  }
  return dir;
}

// -- the server ----------------------------------------------------------------------------------
async function startServer({ tmp }) {
  const env = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    TN_RUNS_DIR: path.join(tmp, 'runs'),
    TN_UPLOADS_DIR: path.join(tmp, 'uploads'),
    // One torch thread per trainer: beside Chromium on a small machine, torch's spinning
    // threads would slow each other down many times over.
    OMP_NUM_THREADS: process.env.OMP_NUM_THREADS || '1',
  };
  const child = spawn(process.execPath, ['server.js'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  try {
    return await serverReady(child, () => log);
  } catch (err) {
    child.kill('SIGKILL'); // a server left running would keep the test process alive forever
    throw err;
  }
}

async function serverReady(child, log) {
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the server printed no URL in 60 s\n${out}\n${log()}`)), 60000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/http:\/\/localhost:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code})\n${out}\n${log()}`));
    });
  });
  // The worker service (Python, torch) takes a few seconds to come up.
  const deadline = Date.now() + 90000;
  for (;;) {
    try {
      const health = await (await fetch(`${url}/api/health`)).json();
      if (health.worker?.state === 'up') break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`the worker service did not come up\n${log()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    pid: child.pid,
    log,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// -- the browser ---------------------------------------------------------------------------------
// Which Chromium (CHROMIUM=, Debian's, the npm one) and how it starts: ./chromium.js.
async function launch() {
  return launchChromium(await resolveChromium());
}

// A page whose console errors and uncaught exceptions are collected in page.errors.
async function newPage(browser, { width = 1280, height = 800 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, acceptDownloads: true });
  const page = await context.newPage();
  page.errors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') page.errors.push(`console: ${msg.text()} (${msg.location()?.url || ''})`);
  });
  page.on('pageerror', (err) => page.errors.push(`exception: ${err.message}`));
  return page;
}

async function shot(page, name, { fullPage = true } = {}) {
  fs.mkdirSync(SHOTS, { recursive: true });
  // Let images and the chart settle.
  await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => {});
  // From the top, so that the sticky header is where it belongs in a full-page image.
  await page.evaluate(() => {
    window.scrollTo(0, 0);
    return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
  // Every page shot is also checked for controls without a label.
  const missing = await unlabelled(page);
  if (missing.length) throw new Error(`${name}: controls without an accessible name:\n${missing.join('\n')}`);
}

// Form controls, buttons and links on the page without an accessible name (should be none).
function unlabelled(page) {
  return page.evaluate(() => {
    const named = (el) => {
      if (el.getAttribute('aria-label')?.trim()) return true;
      const by = el.getAttribute('aria-labelledby');
      if (by && by.split(/\s+/).some((id) => document.getElementById(id)?.textContent.trim())) return true;
      if (el.labels && [...el.labels].some((l) => l.textContent.trim())) return true;
      if ((el.tagName === 'BUTTON' || el.tagName === 'A' || el.tagName === 'SUMMARY') && el.textContent.trim()) return true;
      return !!el.getAttribute('title')?.trim();
    };
    return [...document.querySelectorAll('input, select, textarea, button, a[href], summary')]
      .filter((el) => !el.closest('[hidden]') && el.type !== 'hidden' && !named(el))
      .map((el) => el.outerHTML.slice(0, 120));
  });
}

// The worker service the server spawned (a child process running `-m worker.service`).
function workerPid(serverPid) {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== serverPid) continue;
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('worker.service')) return Number(entry);
    } catch { /* gone meanwhile */ }
  }
  return null;
}

function tmpDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// Polls fn until it returns a truthy value.
async function until(fn, { timeout = 60000, interval = 200, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

// Fails when anything on the page is wider than the window (a narrow-window layout bug).
async function assertNoOverflow(page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the window`);
}

// The wizard up to its settings step with the photos in `data` and the stained-glass texture, the
// quick preset and Advanced open; `fields` typed into their inputs; the CPU and random VGG weights.
// The caller adds what its test needs (a sweep) and goes on.
async function wizardSettings(page, url, data, fields) {
  await page.goto(`${url}/#/new`);
  await page.getByLabel('Folder path').fill(data);
  await page.locator('#scan-ok').waitFor();
  await page.locator('#wizard-next').click();
  await page.locator('[data-texture="stained_glass"]').click();
  await page.locator('#wizard-next').click();
  await page.locator('[data-preset="quick"]').click();
  await page.locator('#advanced summary').click();
  for (const [name, value] of Object.entries(fields)) await page.locator(`input[name="${name}"]`).fill(String(value));
  await page.selectOption('select[name="device"]', 'cpu');
  await page.selectOption('select[name="vgg_weights"]', 'random');
}

// Clicks what starts a download; its suggested name and bytes.
async function download(page, locator) {
  const [file] = await Promise.all([page.waitForEvent('download'), locator.click()]);
  return { name: file.suggestedFilename(), bytes: fs.readFileSync(await file.path()) };
}

// A temp folder with 10 photos, a server on it and a browser, all torn down after test `t`,
// each as soon as it exists: a set-up step that fails leaves nothing running.
async function studio(t, prefix) {
  // Found before anything is started, so that a machine without Chromium fails in a second,
  // with the fix, instead of after (or, once, instead of) a whole server start.
  const chromium = await resolveChromium();
  t.diagnostic(`Chromium: ${chromium.source} (${chromium.executablePath})`);
  const undo = []; // last made, first undone
  t.after(async () => { for (const step of undo.reverse()) await step(); });
  const tmp = tmpDir(prefix);
  undo.push(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const data = makeDataset(path.join(tmp, 'photos'), 10);
  const server = await startServer({ tmp });
  undo.push(() => server.stop());
  const browser = await launchChromium(chromium);
  undo.push(() => browser.close());
  return { tmp, data, server, browser, url: server.url };
}

module.exports = { ROOT, SHOTS, assertNoOverflow, download, encodePng, makeDataset, startServer, launch, newPage, shot, studio, tmpDir, until, wizardSettings, workerPid, unlabelled };

// The wizard at its texture step, with the built-in sample photos: the gallery shown.
async function wizardTextures(page, url) {
  await page.goto(`${url}/#/new`);
  await page.getByText('The built-in sample photos').click();
  await page.locator('#scan-ok').waitFor();
  await page.locator('#wizard-next').click();
  await page.locator('.texture-card').first().waitFor();
}

Object.assign(module.exports, { wizardTextures });
