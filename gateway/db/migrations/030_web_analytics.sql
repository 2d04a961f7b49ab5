-- Web analytics: what pageviews carry beyond a path, the paths and campaigns of a site, first visits, and the
-- rollups every web analytics read is answered from (resolvers/web). Written by the ingestion engine
-- (gateway/ingest/web) in the same transaction as the hits.

-- A web hit is an `events` row (a pageview: key 'pageview' and its path; an event: its name as key, no path)
-- with its web details in `web` (browser, system, screen, location, language, campaign, referrer scheme, session,
-- first visit, bot). NULL for every other event; the partial index serves the exports of hits, by id.
ALTER TABLE events ADD COLUMN web jsonb;
CREATE INDEX events_web_hits ON events (product_id, id) WHERE web IS NOT NULL;

-- The paths (and event names) a site has received, with the ids clients filter by. `event`: the row names an
-- event, not a page. The title is the latest non-empty one sent.
CREATE TABLE web_paths (
    account_id  bigint NOT NULL,
    product_id  bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    id          bigserial NOT NULL,
    path        text NOT NULL,
    event       boolean NOT NULL,
    title       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, product_id, id)
);
-- by a hash of the path: a path of 2,048 characters may be too long for an index entry
CREATE UNIQUE INDEX web_paths_path ON web_paths (account_id, product_id, event, md5(path));

-- Campaign names (utm_campaign / campaign of a hit's query, at most 512 characters), with the ids clients ask
-- their details by.
CREATE TABLE web_campaigns (
    account_id  bigint NOT NULL,
    product_id  bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    id          bigserial NOT NULL,
    name        text NOT NULL,
    PRIMARY KEY (account_id, product_id, id),
    UNIQUE (account_id, product_id, name)
);

-- Which session has already visited which path: the first hit of a session on a path is a first visit (a
-- visitor). Sessions are hashes that include the salt of their epoch (web_session_salts), so a row is useful for
-- one epoch only: the housekeeping deletes older ones. No foreign key: each first visit would pay its trigger;
-- the rows of a deleted product expire with their epoch.
-- `path_key`: md5 of the path's kind and text, so that a visit is known before the path has an id.
CREATE TABLE web_visits (
    account_id  bigint NOT NULL,
    product_id  bigint NOT NULL,
    session     bytea NOT NULL,
    path_key    bytea NOT NULL,
    epoch       bigint NOT NULL,
    PRIMARY KEY (account_id, product_id, session, path_key)
);

-- One random salt per epoch (GATEWAY_SESSION_HOURS long), shared by every worker process: a session is a
-- hash of the salt, the site and the visitor's user agent and IP, so no cookie is needed and the hash cannot be
-- traced back to the visitor once its salt is gone. Not an account's data: one salt serves every site.
CREATE TABLE web_session_salts (
    epoch  bigint PRIMARY KEY,
    salt   bytea NOT NULL
);

-- Pageviews and visitors per bucket (the product's local time, as every rollup), per path (`path_id`; 0 = every
-- path of the site) and per dimension value:
--   dimension ''         value ''                    hours and days: the path's (or the site's) totals
--   dimension 'kind'     value 'pageview'|'event'    hours and days, path 0 only: totals of pages and of events
--   dimension 'referrer' value the referrer          days; detail: its scheme (h, c, o, g)
--   dimension 'browser'  value the name              days; detail: its version
--   dimension 'system'   value the name              days; detail: its version
--   dimension 'size'     value the size class        days; detail: the screen width
--   dimension 'location' value ISO 3166-1 country    days; detail: ISO 3166-2 region, '' when unknown
--   dimension 'language' value ISO 639-3             days
--   dimension 'campaign' value the campaign name     days; detail: the referrer (source) of the campaign
-- Values and details are cut to 512 characters (an index entry holds at most about 2,700 bytes); the hits keep
-- them whole. Bots are not counted. The primary key reads a site's (or some paths') rows of one dimension over a range of
-- buckets; web_rollups_paths reads every path's rows over a range (the top paths, a referrer's paths).
CREATE TABLE web_rollups (
    account_id  bigint NOT NULL,
    product_id  bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    dimension   text NOT NULL,
    grain       char(1) NOT NULL CHECK (grain IN ('h', 'd')),
    path_id     bigint NOT NULL,
    bucket      timestamp NOT NULL,
    value       text NOT NULL,
    detail      text NOT NULL,
    pageviews   bigint NOT NULL DEFAULT 0,
    visitors    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, product_id, dimension, grain, path_id, bucket, value, detail)
) WITH (fillfactor = 90);
CREATE INDEX web_rollups_paths ON web_rollups (account_id, product_id, dimension, grain, bucket)
    WHERE path_id <> 0;

-- Sites: the web hosts that pick a product by the `Host` of a request (custom domains), its site code (the first
-- label of such a host, `<code>.example.com`), the IPs whose hits are dropped, and whether its analytics are
-- public. Hosts are unique across accounts, since a request names its site before anyone is authenticated.
CREATE TABLE product_hosts (
    host        text PRIMARY KEY,
    account_id  bigint NOT NULL,
    product_id  bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    position    integer NOT NULL DEFAULT 0
);
CREATE INDEX product_hosts_product ON product_hosts (account_id, product_id, position);

ALTER TABLE products
    ADD COLUMN site_code text NOT NULL
        DEFAULT substr(md5(random()::text || clock_timestamp()::text), 1, 12),
    ADD COLUMN ignored_ips text[] NOT NULL DEFAULT '{}';
CREATE UNIQUE INDEX products_site_code ON products (site_code);
-- the same setting the `harden` branch adds (reads with the public key): whichever migration runs first adds it
ALTER TABLE products ADD COLUMN IF NOT EXISTS public boolean NOT NULL DEFAULT false;
