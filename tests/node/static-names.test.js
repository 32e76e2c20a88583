'use strict';
// The page spells the run states, the worker's status and the socket.io messages as
// worker/protocol.json does, through static/js/protocol.js (STATE.running, WORKER.up,
// MESSAGE.run_state), which throws on a misspelling. A quoted copy ('running') would compare false
// for ever once the protocol renamed it, silently: these checks find one. The stylesheet keeps its
// rules per state (presentation), so it is checked against the protocol both ways.
const { describe, it } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '../..');
const protocol = JSON.parse(fs.readFileSync(path.join(root, 'worker/protocol.json'), 'utf8'));
const css = fs.readFileSync(path.join(root, 'static/css/app.css'), 'utf8');
const runStates = [...protocol.states.active, ...protocol.states.ended];
const workerStates = protocol.worker_states;
const messages = Object.keys(protocol.messages);

// .badge-* classes that are parts of a badge or badges of something else, not run states.
const OTHER_BADGES = ['dot', 'sweep'];
// The status pill's own state: the page has no connection to the server (status.js).
const PAGE_STATES = ['offline'];

// The file without its comments, which may quote a state when they explain one. Rough, but
// enough for this code: a // comment starts a line or follows a space.
const code = (text) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1');

// [file, line number, the quoted word] for each quoted `words` in static/js (protocol.js aside).
function quoted(words) {
  const dir = path.join(root, 'static/js');
  const pattern = new RegExp(`(['"\`])(${words.join('|')})\\1`, 'g');
  const found = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.js') && f !== 'protocol.js')) {
    code(fs.readFileSync(path.join(dir, file), 'utf8')).split('\n').forEach((line, i) => {
      for (const m of line.matchAll(pattern)) found.push(`static/js/${file}:${i + 1}: ${m[0]} (${line.trim()})`);
    });
  }
  return found;
}

describe('static/css/app.css and the run states', () => {
  it('has a .badge-<state> rule for every run state', () => {
    const missing = runStates.filter((s) => !new RegExp(`\\.badge-${s}(?![\\w-])`).test(css));
    assert.deepStrictEqual(missing, [], `no badge rule for ${missing.join(', ')}`);
  });

  it('names no run state, worker state or page state that protocol.json lacks', () => {
    const badges = [...new Set([...css.matchAll(/\.badge-([\w-]+)/g)].map((m) => m[1]))];
    const unknownBadges = badges.filter((b) => !runStates.includes(b) && !OTHER_BADGES.includes(b));
    assert.deepStrictEqual(unknownBadges, [], `.badge-${unknownBadges.join(', .badge-')}: not a run state of protocol.json`);
    const states = [...new Set([...css.matchAll(/\[data-state=["']?([\w-]+)["']?\]/g)].map((m) => m[1]))];
    const unknownStates = states.filter((s) => ![...runStates, ...workerStates, ...PAGE_STATES].includes(s));
    assert.deepStrictEqual(unknownStates, [], `[data-state] ${unknownStates.join(', ')}: in no states of protocol.json`);
  });
});

describe('static/js spells protocol names through protocol.js', () => {
  it('quotes no run state (STATE.x instead)', () => {
    assert.deepStrictEqual(quoted(runStates), []);
  });

  it('quotes no worker status (WORKER.x instead)', () => {
    assert.deepStrictEqual(quoted(workerStates), []);
  });

  it('quotes no socket.io message name (MESSAGE.x instead)', () => {
    assert.deepStrictEqual(quoted(messages), []);
  });

  it('would find one put back', () => {
    // The check itself, on the shape it guards against: the pattern quoted() builds, on a line.
    const pattern = new RegExp(`(['"\`])(${runStates.join('|')})\\1`);
    assert.ok(pattern.test(code("if (run.state === 'running') stop(); // 'done' here is a comment")));
    assert.ok(!pattern.test(code("if (run.state === STATE.running) stop(); // not 'done' yet")));
  });
});
