'use strict';
// Middleware for routes that take an image as the raw request body.
const express = require('express');
const { HttpError } = require('../http-error');
const { imageType } = require('../image-types');
const { UPLOAD_BYTES } = require('../protocol');

const rawImage = [
  express.raw({ type: () => true, limit: UPLOAD_BYTES }),
  (req, res, next) => {
    if (!Buffer.isBuffer(req.body) || req.body.length === 0) {
      return next(new HttpError(400, 'send the image file as the request body'));
    }
    if (!imageType(req.body)) {
      return next(new HttpError(415, 'not an image: send a PNG, JPEG, GIF, WebP, BMP or TIFF file'));
    }
    next();
  },
];

module.exports = { rawImage };
