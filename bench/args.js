'use strict';
// A benchmark's `--option value` flags over its defaults (node's parseArgs: an unknown option is
// an error); an option whose default is a number is read as one.
const { parseArgs } = require('node:util');

function benchArgs(defaults) {
  const options = Object.fromEntries(Object.keys(defaults).map((key) => [key, { type: 'string' }]));
  const { values } = parseArgs({ options });
  return Object.fromEntries(Object.entries(defaults).map(([key, fallback]) => {
    if (!(key in values)) return [key, fallback];
    return [key, typeof fallback === 'number' ? Number(values[key]) : values[key]];
  }));
}

module.exports = { benchArgs };
