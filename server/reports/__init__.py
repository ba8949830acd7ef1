"""Supervisor reports: queue measures, Erlang C staffing, live figures, exports and the event feed.

`metrics` and `erlang` are pure functions; `queries` reads rows; `live` and `push` build and send
the live dashboard figures; `views` holds the HTTP endpoints (`ROUTES`). See docs/supervisor.md.
"""
