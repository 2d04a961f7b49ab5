"""`python -m gateway.cli`: the same as the `analytics-gateway` command."""

from gateway.cli.main import main

main()
