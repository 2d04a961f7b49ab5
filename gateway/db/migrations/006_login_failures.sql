-- Failed logins per email and hour, shared by every worker process: a password cannot be guessed faster than
-- the limit allows, whichever process the attempts reach.
CREATE TABLE login_failures (
    email         text NOT NULL,
    window_start  timestamptz NOT NULL,
    failures      integer NOT NULL DEFAULT 0,
    PRIMARY KEY (email, window_start)
);
