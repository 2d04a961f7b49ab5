"""SDK health: what SDKs report about themselves (Countly's health checks), per product, day and SDK."""
