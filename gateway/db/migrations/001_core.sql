-- The core domain: tenants, credentials, products and the raw analytics rows.
-- Every row carries its account (and, below the product, its product) so that every statement can be
-- scoped to the caller's account and a distributed PostgreSQL could shard by it.

CREATE TABLE accounts (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id             bigserial PRIMARY KEY,
    account_id     bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    email          text NOT NULL,
    password_hash  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE INDEX users_account ON users (account_id);

CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id      bigint REFERENCES users(id) ON DELETE CASCADE,
    name         text NOT NULL,
    token_hash   bytea NOT NULL UNIQUE,
    permissions  text[] NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
CREATE INDEX api_tokens_account ON api_tokens (account_id, id);

CREATE TABLE products (
    id           bigserial PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name         text NOT NULL,
    url          text,
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    environment  text NOT NULL DEFAULT 'production',
    timezone     text NOT NULL DEFAULT 'UTC',
    app_key      text NOT NULL UNIQUE,
    salt         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_account ON products (account_id, id);

CREATE TABLE devices (
    id             bigserial PRIMARY KEY,
    account_id     bigint NOT NULL,
    product_id     bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    device_key     text NOT NULL,
    first_seen     timestamptz NOT NULL,
    last_seen      timestamptz NOT NULL,
    os             text,
    os_version     text,
    device         text,
    resolution     text,
    carrier        text,
    app_version    text,
    locale         text,
    country        text,
    city           text,
    properties     jsonb NOT NULL DEFAULT '{}',
    -- ingestion state: the open session, the end of the last one (cooldown) and the last request hash
    open_session_id bigint,
    last_session_end timestamptz,
    last_request_hash text,
    UNIQUE (product_id, device_key)
);
CREATE INDEX devices_account_product ON devices (account_id, product_id, id);

CREATE TABLE sessions (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL,
    product_id  bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    device_id   bigint NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    started_at  timestamptz NOT NULL,
    duration    integer NOT NULL DEFAULT 0,
    ended_at    timestamptz
);
CREATE INDEX sessions_product_started ON sessions (product_id, started_at DESC, id DESC);
CREATE INDEX sessions_device_started ON sessions (device_id, started_at DESC, id DESC);

CREATE TABLE events (
    id            bigserial PRIMARY KEY,
    account_id    bigint NOT NULL,
    product_id    bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    device_id     bigint REFERENCES devices(id) ON DELETE CASCADE,
    session_id    bigint REFERENCES sessions(id) ON DELETE SET NULL,
    key           text NOT NULL,
    count         integer NOT NULL DEFAULT 1,
    sum           double precision,
    duration      double precision,
    segmentation  jsonb,
    occurred_at   timestamptz NOT NULL,
    path          text,
    title         text,
    referrer      text
);
CREATE INDEX events_product_time ON events (product_id, occurred_at DESC, id DESC);
CREATE INDEX events_product_key_time ON events (product_id, key, occurred_at DESC, id DESC);
CREATE INDEX events_device_time ON events (device_id, occurred_at DESC, id DESC);
CREATE INDEX events_session ON events (session_id) WHERE session_id IS NOT NULL;

CREATE TABLE event_definitions (
    id            bigserial PRIMARY KEY,
    account_id    bigint NOT NULL,
    product_id    bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    name          text NOT NULL,
    display_name  text,
    description   text,
    visible       boolean NOT NULL DEFAULT true,
    total         bigint NOT NULL DEFAULT 0,
    first_used    timestamptz,
    last_used     timestamptz,
    UNIQUE (product_id, name)
);

CREATE TABLE property_definitions (
    id            bigserial PRIMARY KEY,
    account_id    bigint NOT NULL,
    product_id    bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    -- 'event' for segmentation keys, 'device' for user details and custom device properties
    scope         text NOT NULL,
    name          text NOT NULL,
    display_name  text,
    description   text,
    data_type     text NOT NULL DEFAULT 'string',
    first_seen    timestamptz,
    last_seen     timestamptz,
    UNIQUE (product_id, scope, name)
);

CREATE TABLE reports (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    product_id  bigint REFERENCES products(id) ON DELETE CASCADE,
    name        text NOT NULL,
    type        text NOT NULL,
    definition  jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reports_account ON reports (account_id, id);
CREATE INDEX reports_product ON reports (product_id, id);

CREATE TABLE segments (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    product_id  bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    identifier  text NOT NULL,
    name        text NOT NULL,
    filter      jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (product_id, identifier)
);
CREATE INDEX segments_account ON segments (account_id, id);

CREATE TABLE exports (
    id           bigserial PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    product_id   bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    kind         text NOT NULL,
    format       text NOT NULL,
    status       text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'running', 'finished', 'failed')),
    progress     double precision NOT NULL DEFAULT 0,
    rows         bigint NOT NULL DEFAULT 0,
    size         bigint NOT NULL DEFAULT 0,
    hash         text,
    error        text,
    since        timestamptz,
    until        timestamptz,
    -- the id of the first and last exported row, so a client can continue from where an export ended
    after_id     bigint,
    first_cursor bigint,
    last_cursor  bigint,
    content      bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- a running job whose worker stopped beating is taken over by another worker
    heartbeat_at timestamptz,
    finished_at  timestamptz
);
CREATE INDEX exports_account ON exports (account_id, id);
CREATE INDEX exports_product ON exports (product_id, id);
CREATE INDEX exports_open ON exports (id) WHERE status IN ('pending', 'running');
