"""Live activity of a product over GraphQL subscriptions (served on websockets by gateway.http.graphql_ws)."""
