'use strict';
// Which Chromium the browser tests drive, and how to launch it:
//   CHROMIUM=/path      that one (an error if it is not there: never silently another);
//   CHROMIUM=npm        the one `npm i` brings (@sparticuz/chromium), even where Debian's is installed;
//   otherwise           Debian's /usr/bin/chromium where installed, else the npm one.
// The npm one ships brotli-packed in node_modules (a headless shell, the NSS libraries it needs,
// SwiftShader and a font); the first use unpacks it into node_modules/.cache (a few seconds), once
// per version. Run as a script (`node tests/browser/chromium.js`) it launches the browser, loads a
// page and says which one it used, or exits 1 saying why none can run (.ci/run decides from it).
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { spawn } = require('node:child_process');
const { pipeline } = require('node:stream/promises');

const ROOT = path.resolve(__dirname, '..', '..');
const SYSTEM = '/usr/bin/chromium';
const FIX = 'Run `npm i` (it installs @sparticuz/chromium, a Chromium for the tests), '
  + 'or install Debian\'s (`sudo apt install chromium`), or point CHROMIUM=/path/to/chromium at another.';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const executable = (file) => {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
};

// The packed files of @sparticuz/chromium and its version, or null when it is not installed.
function npmPackage(requireResolve = require.resolve) {
  let main;
  try {
    main = requireResolve('@sparticuz/chromium'); // <pkg>/build/cjs/index.cjs (package.json is not exported)
  } catch (err) {
    if (err.code === 'MODULE_NOT_FOUND') return null;
    throw err;
  }
  const own = (d) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8')).name === '@sparticuz/chromium';
    } catch {
      return false;
    }
  };
  let dir = path.dirname(main); // up past build/cjs/package.json ({"type": "commonjs"})
  while (!own(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  const { version } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const bin = path.join(dir, 'bin');
  const packed = ['chromium.br', 'fonts.tar.br', 'swiftshader.tar.br', 'al2023.tar.br'].map((f) => path.join(bin, f));
  const missing = packed.filter((f) => !fs.existsSync(f));
  if (missing.length) throw new Error(`@sparticuz/chromium ${version} lacks ${missing.join(', ')}. ${FIX}`);
  return { version, bin };
}

async function unbrotli(src, dest) {
  await pipeline(fs.createReadStream(src), zlib.createBrotliDecompress(), fs.createWriteStream(dest, { mode: 0o755 }));
}

async function untar(src, dir) {
  fs.mkdirSync(dir, { recursive: true });
  const tar = spawn('tar', ['-x', '-f', '-', '-C', dir, '--no-same-owner'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  tar.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve, reject) => {
    tar.once('error', reject);
    tar.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tar -x ${src}: exit ${code} ${stderr}`))));
  });
  // tar may stop reading at the archive's end marker, before the padding after it: its exit
  // status is what says whether it worked.
  const fed = pipeline(fs.createReadStream(src), zlib.createBrotliDecompress(), tar.stdin).catch((err) => {
    if (!['EPIPE', 'ERR_STREAM_PREMATURE_CLOSE'].includes(err.code)) throw err;
  });
  await Promise.all([fed, exited]);
}

// Unpacks the npm Chromium into node_modules/.cache/tn-chromium/<version> (once; a folder made
// aside and renamed into place, so that two test processes at once never see half of one).
async function unpack({ version, bin }, cacheRoot = path.join(ROOT, 'node_modules', '.cache', 'tn-chromium')) {
  const dir = path.join(cacheRoot, version);
  if (!executable(path.join(dir, 'chromium'))) {
    fs.mkdirSync(cacheRoot, { recursive: true });
    const stage = fs.mkdtempSync(path.join(cacheRoot, `.${version}-`));
    try {
      await Promise.all([
        unbrotli(path.join(bin, 'chromium.br'), path.join(stage, 'chromium')),
        untar(path.join(bin, 'swiftshader.tar.br'), stage), // next to the binary, where it looks
        untar(path.join(bin, 'fonts.tar.br'), stage), // fonts/Open_Sans (for a machine without fonts), fonts.conf
        untar(path.join(bin, 'al2023.tar.br'), stage), // lib/: libnss3, libnspr4, libexpat (Debian's need apt)
      ]);
      // The package's fonts.conf names /tmp/fonts; ours (in its place): the system's fonts (and
      // their aliases) where there are any, and the shipped Open Sans in any case.
      fs.writeFileSync(path.join(stage, 'fonts.conf'), `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir>${path.join(dir, 'fonts')}</dir>
  <cachedir>${path.join(dir, 'fontconfig-cache')}</cachedir>
</fontconfig>
`);
      fs.chmodSync(stage, 0o755);
      try {
        fs.renameSync(stage, dir);
      } catch (err) {
        if (!['ENOTEMPTY', 'EEXIST'].includes(err.code)) throw err; // another process was first: use its
      }
    } finally {
      fs.rmSync(stage, { recursive: true, force: true });
    }
  }
  const lib = path.join(dir, 'lib');
  // In the C or POSIX locale (LANG=C.UTF-8: CI, containers) this build reports navigator.language
  // 'en-US@posix', which Intl refuses (uPlot's number format throws, and the chart is not drawn).
  // Debian's says 'en-US' there; so does this one in en_US.
  const locale = process.env.LC_ALL || process.env.LC_MESSAGES || process.env.LANG || '';
  const posix = /^(C|POSIX)?([._@].*)?$/.test(locale);
  return {
    executablePath: path.join(dir, 'chromium'),
    env: {
      FONTCONFIG_FILE: path.join(dir, 'fonts.conf'),
      LD_LIBRARY_PATH: [lib, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      ...(posix ? { LANG: 'en_US.UTF-8', LC_ALL: 'en_US.UTF-8' } : {}),
    },
  };
}

// -> { source, executablePath, env? } or throws, saying what to do.
async function resolveChromium({ env = process.env, system = SYSTEM, requireResolve = require.resolve, cacheRoot } = {}) {
  const wanted = env.CHROMIUM;
  if (wanted && wanted !== 'npm') {
    if (executable(wanted)) return { source: `CHROMIUM=${wanted}`, executablePath: wanted };
    throw new Error(`the browser tests need Chromium, and CHROMIUM=${wanted} is not an executable. ${FIX}`);
  }
  if (!wanted && executable(system)) return { source: 'Debian\'s', executablePath: system };
  const pkg = npmPackage(requireResolve);
  if (!pkg) {
    throw new Error(`the browser tests need Chromium, and there is none: not at ${system}, `
      + `and @sparticuz/chromium is not installed. ${FIX}`);
  }
  return { source: `@sparticuz/chromium ${pkg.version}`, ...(await unpack(pkg, cacheRoot)) };
}

async function launchChromium(resolved) {
  const { chromium } = require('playwright-core');
  const r = resolved || await resolveChromium();
  return chromium.launch({
    executablePath: r.executablePath,
    args: ARGS,
    ...(r.env ? { env: { ...process.env, ...r.env } } : {}),
  });
}

module.exports = { resolveChromium, launchChromium, FIX };

if (require.main === module) {
  const fail = (why) => {
    console.error(`browser tests: no Chromium can run here: ${why}`);
    process.exit(1);
  };
  setTimeout(() => fail('no page within 120 s'), 120000).unref();
  (async () => {
    const started = Date.now();
    const r = await resolveChromium();
    const browser = await launchChromium(r);
    try {
      const page = await browser.newPage();
      await page.setContent('<p>ok</p>');
      const text = await page.locator('p').textContent();
      if (text !== 'ok') throw new Error(`the page read ${JSON.stringify(text)}`);
      // What the app's pages need beyond that: a locale Intl accepts (uPlot formats numbers with
      // it), WebAssembly, and a font to draw text with.
      const { language, number, wasm, textWidth } = await page.evaluate(() => {
        const ctx = document.createElement('canvas').getContext('2d');
        ctx.font = '16px sans-serif';
        let formatted;
        try {
          formatted = new Intl.NumberFormat(navigator.language).format(1234.5);
        } catch (err) {
          formatted = null;
        }
        return {
          language: navigator.language,
          number: formatted,
          wasm: typeof WebAssembly === 'object' && typeof WebAssembly.Memory === 'function',
          textWidth: ctx.measureText('Texture Networks').width,
        };
      });
      if (number === null) throw new Error(`Intl refuses its language, ${language}`);
      if (!wasm) throw new Error('it has no WebAssembly');
      if (!(textWidth > 50)) throw new Error(`text is ${textWidth} px wide: no font`);
      console.log(`browser tests: Chromium ${browser.version()}, ${r.source} (${r.executablePath}): `
        + `a page loaded, ${language} (${number}), WebAssembly, fonts; ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } finally {
      await browser.close();
    }
  })().catch((err) => fail(err.message));
}
