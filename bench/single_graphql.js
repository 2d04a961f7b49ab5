// Preloaded into PostGraphile (NODE_OPTIONS=--require): PostGraphile 4 needs graphql 15, while the project's
// other npm packages hoist graphql 16 to node_modules/. Every `require("graphql...")` is sent to the copy
// PostGraphile ships, so the process holds exactly one graphql module.
const Module = require("module");
const path = require("path");

const root = path.resolve(__dirname, "..");
const pkg = require.resolve("graphql/package.json", { paths: [path.join(root, "node_modules", "postgraphile")] });
const target = path.dirname(pkg);
const original = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (request === "graphql" || request.startsWith("graphql/")) {
    request = target + request.slice("graphql".length);
  }
  return original.call(this, request, parent, ...rest);
};
