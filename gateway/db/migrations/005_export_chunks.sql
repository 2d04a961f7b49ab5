-- Export files are stored as a sequence of chunks (one per batch of rows) instead of one value, so that
-- neither the worker nor a download ever holds a whole large export in memory.
CREATE TABLE export_chunks (
    export_id  bigint NOT NULL REFERENCES exports(id) ON DELETE CASCADE,
    seq        integer NOT NULL,
    data       bytea NOT NULL,
    PRIMARY KEY (export_id, seq)
);
ALTER TABLE exports DROP COLUMN content;
