// A tiny second subgraph ("reviews") that extends the analytics graph's `Product` entity by its key.
//
// compose.mjs composes its SDL with the gateway's; router.mjs serves it (buildSubgraphSchema) next to the
// gateway so that the federation router has to plan across two subgraphs and call `_entities` on each.
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";

export const REVIEWS_SDL = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@shareable"])

type Product implements Node @key(fields: "id") {
  id: ID!
  reviewCount: Int!
  reviews(first: Int = null): ReviewConnection!
}

type Review {
  stars: Int!
  text: String!
}

type ReviewConnection {
  nodes: [Review!]!
  pageInfo: PageInfo!
}

# a Relay subgraph declares the same PageInfo value type: it composes because both sides mark it @shareable
type PageInfo @shareable {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}

interface Node {
  id: ID!
}

type Query {
  topReviewedProducts: [Product!]!
}
`;

/** The executable reviews subgraph; `topReviewedProducts` returns the given product ids. */
export function reviewsSchema(productIds) {
  const reviews = (id) => [
    { stars: 5, text: `great ${id.length}` },
    { stars: 3, text: "fine" },
  ];
  return buildSubgraphSchema({
    typeDefs: parse(REVIEWS_SDL),
    resolvers: {
      Query: { topReviewedProducts: () => productIds.map((id) => ({ id })) },
      Product: {
        __resolveReference: ({ id }) => ({ id }),
        reviewCount: ({ id }) => reviews(id).length,
        reviews: ({ id }, { first }) => {
          const all = reviews(id);
          const nodes = first == null ? all : all.slice(0, first);
          return {
            nodes,
            pageInfo: {
              hasNextPage: nodes.length < all.length,
              hasPreviousPage: false,
              startCursor: null,
              endCursor: null,
            },
          };
        },
      },
    },
  });
}
