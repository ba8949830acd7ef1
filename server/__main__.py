"""`python -m server` runs the `jinglin` command."""

from server.entry import main

raise SystemExit(main())
