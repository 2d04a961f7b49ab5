"""What operators see: Prometheus metrics at `/metrics`, the access log and JSON log lines."""
