'use strict';
// scripts/setup-python.js (npm's postinstall), run for real in a temporary project: the script
// itself, a requirements.txt naming a tiny wheel made here (pip installs it offline in a second,
// where torch would take minutes), and PYTHON pointing at a wrapper that logs each call and runs
// the real interpreter. PATH holds nothing at all, so only PYTHON can have made the venv.
const test = require('node:test');
const assert = require('node:assert');
const { execFile, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { tempDir } = require('./helpers/studio');

const ROOT = path.resolve(__dirname, '..', '..');

// The interpreter a user would name in PYTHON.
function realPython() {
  const r = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, `these tests need python3 on PATH: ${r.error || r.stderr}`);
  return r.stdout.trim();
}

// The environment of a run: PATH an empty folder (no python3 or python to fall back on).
function bareEnv(dir, vars) {
  const bin = path.join(dir, 'empty-bin');
  fs.mkdirSync(bin, { recursive: true });
  const env = { ...process.env, PATH: bin, ...vars };
  delete env.TN_SKIP_PYTHON_SETUP;
  return env;
}

function run(file, args, options = {}) {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8', ...options }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, out: stdout + stderr });
    });
  });
}

// wheels/tnprobe-V-py3-none-any.whl: a package `tnprobe` whose VERSION is V.
async function makeWheel(python, dir, version) {
  const script = `
import sys, zipfile
out, v = sys.argv[1], sys.argv[2]
info = f'tnprobe-{v}.dist-info'
files = {'tnprobe/__init__.py': f'VERSION = {v!r}\\n',
         f'{info}/METADATA': f'Metadata-Version: 2.1\\nName: tnprobe\\nVersion: {v}\\n',
         f'{info}/WHEEL': 'Wheel-Version: 1.0\\nGenerator: tn-studio-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n'}
files[f'{info}/RECORD'] = ''.join(f'{name},,\\n' for name in [*files, f'{info}/RECORD'])
with zipfile.ZipFile(out, 'w') as z:
    for name, text in files.items():
        z.writestr(name, text)
`;
  fs.mkdirSync(path.join(dir, 'wheels'), { recursive: true });
  const wheel = path.join(dir, 'wheels', `tnprobe-${version}-py3-none-any.whl`);
  const r = await run(python, ['-c', script, wheel, version]);
  assert.strictEqual(r.code, 0, r.out);
  return `./wheels/${path.basename(wheel)}`;
}

test('setup-python: PYTHON makes .venv; skipped while requirements.txt is unchanged, redone when it changes, not stamped after a failure', async () => {
  const python = realPython();
  const dir = tempDir('tn-setup-');
  try {
    fs.mkdirSync(path.join(dir, 'scripts'));
    fs.copyFileSync(path.join(ROOT, 'scripts', 'setup-python.js'), path.join(dir, 'scripts', 'setup-python.js'));
    const log = path.join(dir, 'python-calls.log');
    const wrapper = path.join(dir, 'my-python');
    fs.writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> '${log}'\nexec '${python}' "$@"\n`, { mode: 0o755 });
    const calls = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : []);
    const requirements = path.join(dir, 'requirements.txt');
    const venvPython = path.join(dir, '.venv', 'bin', 'python');
    const stamp = path.join(dir, '.venv', '.requirements.sha256');
    const sha = () => crypto.createHash('sha256').update(fs.readFileSync(requirements)).digest('hex');
    const env = bareEnv(dir, { PYTHON: wrapper });
    const setup = (extra = {}) => run(process.execPath, [path.join(dir, 'scripts', 'setup-python.js')], { cwd: dir, env: { ...env, ...extra } });
    const installed = async () => (await run(venvPython, ['-c', 'import tnprobe; print(tnprobe.VERSION)'])).out.trim();

    // First run: PYTHON is checked, makes the venv, which gets requirements.txt.
    const v1 = await makeWheel(python, dir, '1');
    fs.writeFileSync(requirements, `--no-index\n${v1}\n`);
    let r = await setup();
    assert.strictEqual(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`creating \\.venv with ${wrapper.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(r.out, /installing requirements\.txt/);
    assert.strictEqual(calls().length, 2, calls().join('\n')); // the version check, then the venv
    assert.match(calls()[0], /^-c import sys/);
    assert.strictEqual(calls()[1], `-m venv ${path.join(dir, '.venv')}`);
    assert.strictEqual(await installed(), '1');
    assert.strictEqual(fs.readFileSync(stamp, 'utf8').trim(), sha());
    const stampTime = fs.statSync(stamp).mtimeMs;

    // Unchanged: nothing is run, not even Python.
    r = await setup();
    assert.strictEqual(r.code, 0, r.out);
    assert.match(r.out, /\.venv is up to date with requirements\.txt/);
    assert.doesNotMatch(r.out, /installing|creating/);
    assert.strictEqual(calls().length, 2);
    assert.strictEqual(fs.statSync(stamp).mtimeMs, stampTime);

    // Changed: installed again into the same venv (PYTHON is not needed for that).
    const v2 = await makeWheel(python, dir, '2');
    fs.writeFileSync(requirements, `--no-index\n${v2}\n`);
    r = await setup({ TN_SKIP_PYTHON_SETUP: '1' }); // except when told to skip
    assert.deepStrictEqual([r.code, r.out], [0, '']);
    assert.strictEqual(await installed(), '1');
    r = await setup();
    assert.strictEqual(r.code, 0, r.out);
    assert.match(r.out, /installing requirements\.txt/);
    assert.doesNotMatch(r.out, /creating/);
    assert.strictEqual(calls().length, 2);
    assert.strictEqual(await installed(), '2');
    assert.strictEqual(fs.readFileSync(stamp, 'utf8').trim(), sha());

    // A failed install says so, fails npm i, and is not stamped: the next run tries again.
    const good = sha();
    fs.writeFileSync(requirements, '--no-index\n./wheels/tnprobe-3-py3-none-any.whl\n');
    r = await setup();
    assert.strictEqual(r.code, 1, r.out);
    assert.match(r.out, /installing requirements\.txt/);
    assert.match(r.out, /pip install failed/);
    assert.strictEqual(fs.readFileSync(stamp, 'utf8').trim(), good);
    assert.strictEqual(await installed(), '2');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('setup-python: no Python 3.10+ to be found fails with what to do', async () => {
  const dir = tempDir('tn-setup-');
  try {
    fs.mkdirSync(path.join(dir, 'scripts'));
    fs.copyFileSync(path.join(ROOT, 'scripts', 'setup-python.js'), path.join(dir, 'scripts', 'setup-python.js'));
    fs.writeFileSync(path.join(dir, 'requirements.txt'), '--no-index\n');
    // PYTHON is a Python 3.8 (as far as the version check can tell); none on PATH
    const old = path.join(dir, 'old-python');
    fs.writeFileSync(old, '#!/bin/sh\necho 3.8\n', { mode: 0o755 });
    const env = bareEnv(dir, { PYTHON: old });
    const r = await run(process.execPath, [path.join(dir, 'scripts', 'setup-python.js')], { cwd: dir, env });
    assert.strictEqual(r.code, 1, r.out);
    assert.match(r.out, new RegExp(`${old.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is Python 3\\.8; TN Studio needs 3\\.10 or newer`));
    assert.match(r.out, /Python 3\.10\+ was not found.*\n.*PYTHON=\/path\/to\/python3/);
    assert.ok(!fs.existsSync(path.join(dir, '.venv')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
