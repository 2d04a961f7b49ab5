// A real Apollo Federation v2 gateway in front of the analytics subgraph, on loopback.
//
//   node tests/federation/router.mjs <subgraph-graphql-url> <token> [--reviews <productId>,...]
//
// `ApolloGateway` + `IntrospectAndCompose` read each subgraph's `_service { sdl }` (the analytics one with
// `Authorization: Bearer <token>`, the only request made with that token on the router's behalf) and compose
// the supergraph; `@apollo/server` serves it on 127.0.0.1 with an ephemeral port. With `--reviews`, the tiny
// "reviews" subgraph of reviews.mjs is served too (its `topReviewedProducts` returns those product ids), so
// the router has to plan across two subgraphs and call `_entities` on the analytics subgraph.
//
// Every client request's `Authorization` header is forwarded to the subgraphs
// (RemoteGraphQLDataSource.willSendRequest), so tenancy is decided by the subgraph exactly as for direct
// requests. Each reply carries `extensions.subgraphCalls`: [{subgraph, query}] in the order the router sent
// them, so tests can see the query plan at work. When ready the router prints one line of JSON:
// {"url": "http://127.0.0.1:<port>/"}; it stops on SIGTERM/SIGINT or when its stdin closes.
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { startStandaloneServer } from "@apollo/server/standalone";
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from "@apollo/gateway";
import { reviewsSchema } from "./reviews.mjs";

class ForwardingDataSource extends RemoteGraphQLDataSource {
  constructor(name, url) {
    super({ url });
    this.name = name;
  }

  willSendRequest({ request, context }) {
    if (context && context.authorization) {
      request.http.headers.set("Authorization", context.authorization);
    }
    if (context && Array.isArray(context.subgraphCalls)) {
      context.subgraphCalls.push({ subgraph: this.name, query: request.query });
    }
  }
}

const traceSubgraphCalls = {
  async requestDidStart() {
    return {
      async willSendResponse({ response, contextValue }) {
        if (response.body.kind === "single" && contextValue.subgraphCalls) {
          const result = response.body.singleResult;
          result.extensions = { ...(result.extensions ?? {}), subgraphCalls: contextValue.subgraphCalls };
        }
      },
    };
  },
};

async function main(argv) {
  const args = [...argv];
  let reviewIds = null;
  const at = args.indexOf("--reviews");
  if (at >= 0) {
    reviewIds = (args[at + 1] ?? "").split(",").filter(Boolean);
    args.splice(at, 2);
  }
  const [subgraphUrl, token] = args;
  if (!subgraphUrl || !token) {
    console.error("usage: router.mjs <subgraph-graphql-url> <token> [--reviews <productId>,...]");
    process.exit(2);
  }
  const subgraphs = [{ name: "analytics", url: subgraphUrl }];
  if (reviewIds !== null) {
    const reviews = new ApolloServer({
      schema: reviewsSchema(reviewIds),
      plugins: [ApolloServerPluginInlineTraceDisabled()],
    });
    const started = await startStandaloneServer(reviews, { listen: { host: "127.0.0.1", port: 0 } });
    subgraphs.push({ name: "reviews", url: started.url });
  }
  const gateway = new ApolloGateway({
    supergraphSdl: new IntrospectAndCompose({
      subgraphs,
      // only the analytics subgraph needs the token; the reviews one ignores it
      introspectionHeaders: { Authorization: `Bearer ${token}` },
    }),
    buildService: ({ name, url }) => new ForwardingDataSource(name, url),
  });
  const server = new ApolloServer({ gateway, introspection: true, plugins: [traceSubgraphCalls] });
  const { url } = await startStandaloneServer(server, {
    listen: { host: "127.0.0.1", port: 0 },
    context: async ({ req }) => ({ authorization: req.headers.authorization ?? null, subgraphCalls: [] }),
  });
  console.log(JSON.stringify({ url, subgraphs: subgraphs.map((s) => s.name) }));

  // a test router holds nothing worth draining: exit at once (a graceful stop waits up to 10 s for
  // keep-alive client connections)
  const stop = () => process.exit(0);
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error?.stack ?? String(error));
  process.exit(1);
});
