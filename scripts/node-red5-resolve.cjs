// Preloaded (node --require) by scripts/test-node-red5.mjs: makes `require('node-red')` and the
// @node-red/* packages resolve to the Node-RED 5 installed in NODE_RED5_MODULES instead of the
// project's own devDependency (Node-RED 4), so the same test files run against both.
const Module = require('node:module');
const modules = process.env.NODE_RED5_MODULES;
if (!modules) throw new Error('NODE_RED5_MODULES is not set');
const original = Module._resolveFilename;
Module._resolveFilename = function (request, parent, isMain, options) {
  if (request === 'node-red' || request.startsWith('node-red/') || request.startsWith('@node-red/')) {
    return original.call(this, request, parent, isMain, { ...options, paths: [modules] });
  }
  return original.call(this, request, parent, isMain, options);
};
