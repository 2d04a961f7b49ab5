-- Requests about people's own data (GDPR): a copy of everything stored about them (`access`), or its erasure
-- (`erase`), with a UUID to follow them by (resolvers/people/requests.py).
--
-- An access request keeps the names it was asked about and, per name, the export job that writes its file
-- (`exports`: {identity: export id}). An erasure keeps no name: only how many names it was asked about and how
-- many people it erased, so that nothing left in the database names the people it erased.
CREATE TABLE person_requests (
    account_id    bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    id            bigserial NOT NULL,
    uuid          uuid NOT NULL DEFAULT gen_random_uuid(),
    kind          text NOT NULL CHECK (kind IN ('access', 'erase')),
    status        text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed')),
    identities    text[],
    exports       jsonb,
    asked         integer NOT NULL DEFAULT 0,
    erased        integer NOT NULL DEFAULT 0,
    notify        boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    processed_at  timestamptz,
    PRIMARY KEY (account_id, id)
);
CREATE UNIQUE INDEX person_requests_uuid ON person_requests (uuid);
