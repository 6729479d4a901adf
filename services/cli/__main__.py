"""`python -m services.cli`: the `dealtrail` command (how `up` and the tests start services)."""
from services.cli import main

main()
