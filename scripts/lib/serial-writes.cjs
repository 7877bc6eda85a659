// Preloaded (node --require) into electronegativity: its CSV report is written with two
// fs.writeFile calls that are not chained (the header with flag "w", then the rows with flag "a"),
// so under load the header lands over the rows or truncates them. Here writeFile calls to the
// same path run one after the other, in call order.
'use strict';
const fs = require('node:fs');

const writeFile = fs.writeFile;
const queues = new Map();
fs.writeFile = function (file, data, options, callback) {
  const done = typeof options === 'function' ? options : callback;
  const opts = typeof options === 'function' ? {} : options;
  const key = typeof file === 'number' ? file : String(file);
  const previous = queues.get(key) ?? Promise.resolve();
  const next = previous.then(() => new Promise((resolve) => {
    writeFile.call(fs, file, data, opts, (err) => {
      resolve();
      if (typeof done === 'function') done(err);
    });
  }));
  queues.set(key, next);
};
