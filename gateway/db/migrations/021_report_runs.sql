-- Runs of reports (KISSmetrics' people searches): asynchronous jobs carried out by any gateway process
-- (gateway/background/report_runs.py, on the job runner of gateway/background/jobs.py), and their result rows.
--
-- Job columns, shared with exports: `status`, `progress`, `error`, `heartbeat_at` (a running job beats; one
-- whose worker stopped beating is taken over) and `attempt` (raised by every claim: a worker whose job was
-- taken over finds its attempt gone and stops writing).
ALTER TABLE exports ADD COLUMN attempt integer NOT NULL DEFAULT 0;

CREATE TABLE report_runs (
    account_id    bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    id            bigserial NOT NULL,
    uuid          uuid NOT NULL DEFAULT gen_random_uuid(),
    report_id     bigint NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    product_id    bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    -- what the run searches: the report's definition when it started, and the run's dates
    definition    jsonb NOT NULL,
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL,
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'running', 'finished', 'failed')),
    progress      double precision NOT NULL DEFAULT 0,
    error         text,
    -- the result's columns (JSON array of {name, kind, ...}) and how many rows it has
    columns       jsonb,
    total         bigint,
    -- how many times its status was read with `pollReportRun` (clients that wait for a run)
    polls         integer NOT NULL DEFAULT 0,
    attempt       integer NOT NULL DEFAULT 0,
    heartbeat_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    PRIMARY KEY (account_id, id)
);
CREATE UNIQUE INDEX report_runs_uuid ON report_runs (uuid);
CREATE UNIQUE INDEX report_runs_id ON report_runs (id);
CREATE INDEX report_runs_report ON report_runs (account_id, report_id, id);
CREATE INDEX report_runs_open ON report_runs (id) WHERE status IN ('pending', 'running');

-- One row per person found, in order (`seq` from 0): the person and the row's values, aligned with the
-- run's columns. A run taken over from a stopped worker deletes what it had written and starts again.
CREATE TABLE report_run_rows (
    account_id  bigint NOT NULL,
    run_id      bigint NOT NULL REFERENCES report_runs(id) ON DELETE CASCADE,
    seq         integer NOT NULL,
    person_id   bigint NOT NULL,
    person      text NOT NULL,
    cells       jsonb NOT NULL,
    PRIMARY KEY (account_id, run_id, seq)
);
