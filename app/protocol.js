'use strict';
// The names shared with the worker service, read from the one file that defines them.
const PROTOCOL = require('../worker/protocol.json');

module.exports = {
  EVENTS: PROTOCOL.events,
  STATES: PROTOCOL.states,
  COMMANDS: PROTOCOL.commands,
  MESSAGES: PROTOCOL.messages,
};
