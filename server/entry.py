"""The `jinglin` console script's entry point: `jinglin quality` starts without loading the server.

Every other command needs the whole application (its database, queue and media modules take
~1.5-4 s to import); checking a few pictures needs only OpenCV (~0.3 s), and a caseworker or a
script may run it once per picture.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence


def run_quietly(command: Callable[[], int]) -> int:
    """Run a command's handler, ending quietly (status 141, as a tool killed by SIGPIPE) when the
    reader of standard output goes away (`jinglin audit export | head`)."""
    try:
        code = int(command())
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except BrokenPipeError:
        # Keep Python from reporting the pipe again when it flushes at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `jinglin` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["quality"]:
        from server.quality import cli as quality_cli

        return run_quietly(lambda: quality_cli.main(args))
    from server import cli

    return cli.main(args)
