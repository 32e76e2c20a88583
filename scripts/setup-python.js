#!/usr/bin/env node
// npm's postinstall: make .venv from requirements.txt, once.
// Re-running is cheap: the install is skipped while requirements.txt is unchanged.
'use strict';
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const venv = path.join(root, '.venv');
const venvPython = path.join(venv, 'bin', 'python');
const stamp = path.join(venv, '.requirements.sha256');
const requirements = path.join(root, 'requirements.txt');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root });
  if (r.error) throw r.error;
  return r.status;
}

function findPython() {
  // PYTHON lets a user point at a specific interpreter.
  for (const cmd of [process.env.PYTHON, 'python3', 'python'].filter(Boolean)) {
    const r = spawnSync(cmd, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
    if (r.status !== 0 || !r.stdout) continue;
    const [major, minor] = r.stdout.trim().split('.').map(Number);
    if (major === 3 && minor >= 10) return cmd;
    console.error(`[setup] ${cmd} is Python ${r.stdout.trim()}; TN Studio needs 3.10 or newer.`);
  }
  return null;
}

function main() {
  if (process.env.TN_SKIP_PYTHON_SETUP) return 0;
  const want = crypto.createHash('sha256').update(fs.readFileSync(requirements)).digest('hex');
  if (fs.existsSync(venvPython) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8').trim() === want) {
    console.log('[setup] .venv is up to date with requirements.txt');
    return 0;
  }
  if (!fs.existsSync(venvPython)) {
    const python = findPython();
    if (!python) {
      console.error('[setup] Python 3.10+ was not found. Install it (e.g. `sudo apt install python3 python3-venv`),\n' +
        '        or set PYTHON=/path/to/python3, then run `npm i` again.');
      return 1;
    }
    console.log(`[setup] creating .venv with ${python}`);
    if (run(python, ['-m', 'venv', venv]) !== 0) {
      console.error('[setup] `python3 -m venv` failed. On Debian/Ubuntu install python3-venv, then run `npm i` again.');
      return 1;
    }
  }
  console.log('[setup] installing requirements.txt into .venv (torch is large: this takes a few minutes once)');
  if (run(venvPython, ['-m', 'pip', 'install', '--disable-pip-version-check', '-r', requirements]) !== 0) {
    console.error('[setup] pip install failed; see the messages above. Fix and run `npm i` again.');
    return 1;
  }
  fs.writeFileSync(stamp, want + '\n');
  return 0;
}

process.exitCode = main();
