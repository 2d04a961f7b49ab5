-- Time-bucketed rollups maintained by the ingestion engine in the same transaction as the raw rows.
-- Buckets are in the product's LOCAL time (products.timezone), stored as timestamp without time zone:
--   grain 'h' hour, 'd' day, 'w' Countly week (w<ceil(dayOfYear/7)>: starts on day-of-year 1, 8, 15, ...),
--   'm' month, 'y' year.
-- Reads never scan raw events: they read these tables by (product, dimension/key, grain, bucket range).

-- Sessions and users: dimension '' / value '' are the totals; the metric dimensions are
-- os, os_version, device, resolution, carrier, app_version, locale, country (values stored as sent).
CREATE TABLE session_rollups (
    account_id  bigint NOT NULL,
    product_id  bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    dimension   text NOT NULL,
    value       text NOT NULL,
    grain       char(1) NOT NULL CHECK (grain IN ('h', 'd', 'w', 'm', 'y')),
    bucket      timestamp without time zone NOT NULL,
    t           bigint NOT NULL DEFAULT 0,   -- sessions
    n           bigint NOT NULL DEFAULT 0,   -- new users
    u           bigint NOT NULL DEFAULT 0,   -- unique users
    d           bigint NOT NULL DEFAULT 0,   -- duration, seconds
    e           bigint NOT NULL DEFAULT 0,   -- requests
    PRIMARY KEY (product_id, dimension, grain, bucket, value)
);
CREATE INDEX session_rollups_account ON session_rollups (account_id, product_id);

-- Events: seg_key '' / seg_value '' are the per-key totals.
CREATE TABLE event_rollups (
    account_id  bigint NOT NULL,
    product_id  bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    key         text NOT NULL,
    seg_key     text NOT NULL,
    seg_value   text NOT NULL,
    grain       char(1) NOT NULL CHECK (grain IN ('h', 'd', 'w', 'm', 'y')),
    bucket      timestamp without time zone NOT NULL,
    c           bigint NOT NULL DEFAULT 0,                  -- count
    s           double precision NOT NULL DEFAULT 0,        -- sum
    dur         double precision NOT NULL DEFAULT 0,        -- duration
    PRIMARY KEY (product_id, key, seg_key, grain, bucket, seg_value)
);
CREATE INDEX event_rollups_account ON event_rollups (account_id, product_id);
-- listing keys and segmentation values of a product (yearly rows only are read)
CREATE INDEX event_rollups_keys ON event_rollups (product_id, grain, key, seg_key, seg_value);

-- Extra ingestion state on devices:
--   last_begin_at    the last counted begin_session (new / unique users are decided from it)
--   last_session_id  the most recent session (a begin within the cooldown after its end extends it)
--   location         "lat,lon" as last sent
ALTER TABLE devices
    ADD COLUMN last_begin_at timestamptz,
    ADD COLUMN last_session_id bigint,
    ADD COLUMN location text;
