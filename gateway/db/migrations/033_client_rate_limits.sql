-- Requests per client (an IP address, or an IP address and user agent) and window of each rate-limit rule,
-- shared by every worker process and host (gateway/access/client_limits.py). Counted before anyone is
-- authenticated, so rows belong to no account. `client` is a hash of the client's key. Windows that have ended
-- are deleted by the housekeeping.
CREATE TABLE client_rate_limits (
    rule          text NOT NULL,
    client        bytea NOT NULL,
    window_start  timestamptz NOT NULL,
    used          integer NOT NULL DEFAULT 0,
    PRIMARY KEY (rule, client, window_start)
);
CREATE INDEX client_rate_limits_window ON client_rate_limits (window_start);
