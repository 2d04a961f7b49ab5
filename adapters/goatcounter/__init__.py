"""The GoatCounter dialect: the API v0 (`/api/v0/...`), the `/count` pixel and the gateway's own `/count.js`."""
