"""The database: the asyncpg pool with its statement count, the embedded PostgreSQL, and versioned migrations."""
