-- Requests per client (an IP address, or an IP address and user agent) of each rate-limit rule, shared by every
-- worker process and host (gateway/access/client_limits.py). A client's window starts with its first request and
-- lasts the rule's length; `expires_at` is its end, after which the housekeeping deletes the row. Counted before
-- anyone is authenticated, so rows belong to no account. `client` is a hash of the client's key.
CREATE TABLE client_rate_limits (
    rule          text NOT NULL,
    client        bytea NOT NULL,
    window_start  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    used          integer NOT NULL DEFAULT 0,
    PRIMARY KEY (rule, client)
);
CREATE INDEX client_rate_limits_expiry ON client_rate_limits (expires_at);
