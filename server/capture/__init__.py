"""Document capture: live guidance, still upload and check, encrypted storage, review and purge.

See docs/capture.md. Wiring: `context.capture_context` (cleanup context after the signaling one),
`views.ROUTES` (route table) and `cli.register` (the `jinglin purge` command).
"""
