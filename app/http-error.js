'use strict';
// One error type for the API, and the handler that turns any error into {error} JSON.

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const BODY_PARSER_MESSAGES = {
  'entity.too.large': (err) => `the body is over the ${Math.round(err.limit / 2 ** 20)} MB limit`,
  'entity.parse.failed': () => 'the body is not valid JSON',
  'encoding.unsupported': () => 'unsupported body encoding',
};

// Four parameters: that is how Express recognises an error handler.
function errorHandler(err, req, res, next) { // eslint-disable-line no-unused-vars
  const status = Number.isInteger(err.status) && err.status >= 400 && err.status < 600 ? err.status : 500;
  const known = BODY_PARSER_MESSAGES[err.type];
  const message = known ? known(err) : err instanceof HttpError || status < 500 ? err.message : 'internal error';
  if (status === 500) console.error('[node]', req.method, req.originalUrl, err);
  if (res.headersSent) return res.destroy();
  res.status(status).json({ error: message });
}

module.exports = { HttpError, errorHandler };
