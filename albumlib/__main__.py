"""`python -m albumlib ...`: see albumlib.cli."""

from albumlib.cli import main

raise SystemExit(main())
