"""The running service: configuration, database, HTTP endpoints, ingestion engine and command line."""
