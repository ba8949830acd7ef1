"""`python -m server` runs the `jinglin` command."""

from server.cli import main

raise SystemExit(main())
