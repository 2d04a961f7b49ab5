"""KISSmetrics compatibility: tracking beacons (`/e`, `/s`, `/a`), the Core API (`/core`) and the Query API's
people searches (`/query`), translated into operations on the graph."""
