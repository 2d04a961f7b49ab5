// Compose the gateway's subgraph SDL with Apollo's real composition library.
//
//   node tests/federation/compose.mjs <gateway-url> <token> [--supergraph-out FILE]
//   node tests/federation/compose.mjs --sdl-file FILE          (offline: compose an SDL file)
//
// Reads `_service { sdl }` from <gateway-url>/graphql with `Authorization: Bearer <token>`, composes it
//   1. alone, and
//   2. together with a tiny second subgraph ("reviews") that extends `Product` by its key with fields
//      and declares its own Relay-style `PageInfo` and `Node`,
// and prints a JSON summary on stdout. Exit code 1 (errors on stderr) when either composition fails.
import { readFile, writeFile } from "node:fs/promises";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";
import { REVIEWS_SDL } from "./reviews.mjs";


export async function fetchSdl(url, token) {
  const response = await fetch(new URL("/graphql", url), {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/graphql-response+json",
      Authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ query: "{ _service { sdl } }" }),
  });
  const body = await response.json();
  if (response.status !== 200 || body.errors || !body.data?._service?.sdl) {
    throw new Error(`_service { sdl } failed: HTTP ${response.status} ${JSON.stringify(body)}`);
  }
  return body.data._service.sdl;
}

export function compose(subgraphs) {
  const result = composeServices(
    subgraphs.map(({ name, url, sdl }) => ({ name, url, typeDefs: parse(sdl) })),
  );
  return result;
}

function report(label, result) {
  if (result.errors && result.errors.length) {
    console.error(`composition failed (${label}):`);
    for (const error of result.errors) console.error(`  - ${error.message}`);
    return false;
  }
  return true;
}

async function main(argv) {
  let sdl;
  let url = "http://127.0.0.1:0";
  let supergraphOut = null;
  const args = [...argv];
  const outAt = args.indexOf("--supergraph-out");
  if (outAt >= 0) {
    supergraphOut = args[outAt + 1];
    args.splice(outAt, 2);
  }
  if (args[0] === "--sdl-file") {
    sdl = await readFile(args[1], "utf-8");
  } else if (args.length >= 2) {
    url = args[0];
    sdl = await fetchSdl(url, args[1]);
  } else {
    console.error("usage: compose.mjs <gateway-url> <token> [--supergraph-out FILE] | --sdl-file FILE");
    return 2;
  }
  const gatewayGraph = { name: "analytics", url: new URL("/graphql", url).href, sdl };
  const alone = compose([gatewayGraph]);
  const together = compose([
    gatewayGraph,
    { name: "reviews", url: "http://127.0.0.1:9/graphql", sdl: REVIEWS_SDL },
  ]);
  const ok = report("analytics alone", alone) & report("analytics + reviews", together);
  if (!ok) return 1;
  if (supergraphOut) await writeFile(supergraphOut, alone.supergraphSdl);
  const hints = [...(alone.hints ?? []), ...(together.hints ?? [])].map((h) => h.toString());
  console.log(
    JSON.stringify({
      ok: true,
      supergraphBytes: alone.supergraphSdl.length,
      combinedHasReviewCount: /reviewCount: Int!/.test(together.supergraphSdl),
      combinedProductJoins: (together.supergraphSdl.match(/type Product[^{]*/) ?? [""])[0].trim(),
      hints,
    }),
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error?.stack ?? String(error));
    process.exit(1);
  },
);
