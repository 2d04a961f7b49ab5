-- Automatic persisted queries, bounded: the documents an account's clients remembered, at most a set number per
-- account (the least recently used forgotten when a new one comes) and swept once unused for a while
-- (gateway/execution/persisted.py). They were rows of `persisted_queries`, of no account and never forgotten:
-- any authenticated caller could fill the table without bound. `persisted_queries` keeps the gateway's
-- registered (trusted) documents; the documents clients remembered there are dropped (a client whose hash is
-- no longer known sends its document again, as the APQ protocol has it).
CREATE TABLE persisted_documents (
    account_id    bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    sha256        text NOT NULL,
    query         text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, sha256)
);
-- an account's least recently used (when one is forgotten), and the unused ones of every account (the sweep)
CREATE INDEX persisted_documents_used ON persisted_documents (account_id, last_used_at);
CREATE INDEX persisted_documents_unused ON persisted_documents (last_used_at);
DELETE FROM persisted_queries WHERE NOT trusted;
