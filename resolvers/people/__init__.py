"""People: persons, their identities and properties, and people searches (see migration 020)."""
