"""The server's side of the matters catalog: database sync, the in-process catalog service, set-up,
HTTP views and the catalog CLI commands.
"""
