-- The GraphQL front door's shared state: query-cost budgets per token and hour, and persisted documents.
-- Kept in PostgreSQL so that every worker process and host enforces the same numbers.

CREATE TABLE rate_limits (
    token_id      bigint NOT NULL REFERENCES api_tokens(id) ON DELETE CASCADE,
    window_start  timestamptz NOT NULL,
    used          bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (token_id, window_start)
);

CREATE TABLE persisted_queries (
    sha256      text PRIMARY KEY,
    query       text NOT NULL,
    -- trusted documents may run when the gateway accepts only registered operations
    trusted     boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
