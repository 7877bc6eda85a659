// Preloaded (node --require) into tools that phone home when we only want them to read files:
// every DNS lookup of a name other than localhost fails at once, so no request leaves the machine,
// and got makes no retries. Used by check-electron-security.mjs for electronegativity, which
// fetches translations and Electron's release list on every run.
'use strict';
const dns = require('node:dns');

const local = (host) => host === 'localhost' || host === '127.0.0.1' || host === '::1';
const refuse = (host) => Object.assign(new Error(`getaddrinfo ENOTFOUND ${host} (network disabled for this tool)`), { code: 'ENOTFOUND', hostname: host });

const lookup = dns.lookup;
dns.lookup = function (host, options, callback) {
  const cb = typeof options === 'function' ? options : callback;
  if (local(host)) return lookup.apply(this, arguments);
  process.nextTick(cb, refuse(host));
  return {};
};
const promisesLookup = dns.promises.lookup;
dns.promises.lookup = (host, ...rest) => (local(host) ? promisesLookup(host, ...rest) : Promise.reject(refuse(host)));

// got (electronegativity's HTTP client) would retry each refused request with backoff for
// seconds; without retries the tool goes straight to its offline path.
const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) {
  const loaded = load.call(this, request, ...rest);
  if (request !== 'got' || typeof loaded?.extend !== 'function') return loaded;
  const once = loaded.extend({ retry: { limit: 0 } });
  once.default = once;
  Object.defineProperty(once, '__esModule', { value: true });
  return once;
};
