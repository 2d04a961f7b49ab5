-- SDK health checks (Countly's `hc`, sent by the web SDK at every start): kept per product, local day and SDK as
-- the product's SDK health, never as people. One row per (product, day, SDK name and version), summed by the
-- ingestion engine in the transaction of the batch that carries the checks.
CREATE TABLE sdk_health (
    account_id          bigint NOT NULL,
    id                  bigint GENERATED ALWAYS AS IDENTITY,
    product_id          bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    day                 date NOT NULL,
    sdk_name            text NOT NULL,
    sdk_version         text NOT NULL,
    checks              bigint NOT NULL DEFAULT 0,
    error_logs          bigint NOT NULL DEFAULT 0,
    warning_logs        bigint NOT NULL DEFAULT 0,
    backoffs            bigint NOT NULL DEFAULT 0,
    longest_backoff_run integer NOT NULL DEFAULT 0,
    -- checks whose SDK's last request had failed (a status other than 2xx, or none at all)
    failed_requests     bigint NOT NULL DEFAULT 0,
    last_status_code    integer NOT NULL DEFAULT -1,
    last_error_message  text NOT NULL DEFAULT '',
    last_received_at    timestamptz NOT NULL,
    PRIMARY KEY (account_id, product_id, day, sdk_name, sdk_version),
    UNIQUE (account_id, id)
);
CREATE INDEX sdk_health_product ON sdk_health (product_id, id);

-- Data poisoned before values were normalised (issue 22): instants beyond the calendar that asyncpg reads back as
-- naive datetimes (year 1 is stored as -infinity), and sums that overflowed to infinity. Every instant is brought
-- into [1970-01-01, now] and every sum made finite, as the gateway now normalises what it stores.
UPDATE devices SET first_seen = greatest(least(first_seen, now()), '1970-01-01 00:00:00+00')
WHERE first_seen < '1970-01-01 00:00:00+00' OR first_seen > now() + interval '1 day';
UPDATE devices SET last_seen = greatest(least(last_seen, now()), '1970-01-01 00:00:00+00')
WHERE last_seen < '1970-01-01 00:00:00+00' OR last_seen > now() + interval '1 day';
UPDATE devices SET last_session_end = greatest(least(last_session_end, now()), '1970-01-01 00:00:00+00')
WHERE last_session_end < '1970-01-01 00:00:00+00' OR last_session_end > now() + interval '1 day';
UPDATE devices SET last_begin_at = greatest(least(last_begin_at, now()), '1970-01-01 00:00:00+00')
WHERE last_begin_at < '1970-01-01 00:00:00+00' OR last_begin_at > now() + interval '1 day';
UPDATE sessions SET started_at = greatest(least(started_at, now()), '1970-01-01 00:00:00+00')
WHERE started_at < '1970-01-01 00:00:00+00' OR started_at > now() + interval '1 day';
UPDATE sessions SET ended_at = greatest(least(ended_at, now()), '1970-01-01 00:00:00+00')
WHERE ended_at < '1970-01-01 00:00:00+00' OR ended_at > now() + interval '1 day';
UPDATE event_definitions
SET first_used = greatest(least(first_used, now()), '1970-01-01 00:00:00+00'),
    last_used = greatest(least(last_used, now()), '1970-01-01 00:00:00+00')
WHERE first_used < '1970-01-01 00:00:00+00' OR first_used > now() + interval '1 day'
   OR last_used < '1970-01-01 00:00:00+00' OR last_used > now() + interval '1 day';
UPDATE property_definitions
SET first_seen = greatest(least(first_seen, now()), '1970-01-01 00:00:00+00'),
    last_seen = greatest(least(last_seen, now()), '1970-01-01 00:00:00+00')
WHERE first_seen < '1970-01-01 00:00:00+00' OR first_seen > now() + interval '1 day'
   OR last_seen < '1970-01-01 00:00:00+00' OR last_seen > now() + interval '1 day';
-- the largest sum the gateway now accepts per value (2**53); NaN compares greater than every number in SQL
UPDATE event_rollups
SET s = CASE WHEN s = 'NaN' THEN 0 ELSE greatest(least(s, 9007199254740992), -9007199254740992) END,
    dur = CASE WHEN dur = 'NaN' THEN 0 ELSE greatest(least(dur, 9007199254740992), -9007199254740992) END
WHERE s IN ('Infinity', '-Infinity', 'NaN') OR dur IN ('Infinity', '-Infinity', 'NaN');
-- one pass over the events for their three columns
UPDATE events
SET sum = CASE WHEN sum IN ('Infinity', '-Infinity', 'NaN') THEN NULL ELSE sum END,
    duration = CASE WHEN duration IN ('Infinity', '-Infinity', 'NaN') THEN NULL ELSE duration END,
    occurred_at = greatest(least(occurred_at, now()), '1970-01-01 00:00:00+00')
WHERE sum IN ('Infinity', '-Infinity', 'NaN') OR duration IN ('Infinity', '-Infinity', 'NaN')
   OR occurred_at < '1970-01-01 00:00:00+00' OR occurred_at > now() + interval '1 day';
