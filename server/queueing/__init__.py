"""The server's side of the live queue: the service around the engine, the recorder of transitions and
the reconciler; the only writer of session rows.
"""
