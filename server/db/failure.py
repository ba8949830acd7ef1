"""One line for a database that cannot be reached or used, the same from every command.

Every `jinglin` command that meets such a failure prints `error: cannot use the database:
<reason>` on standard error (the driver's first line: no traceback, and no password, which
drivers leave out of their messages) and exits with its documented status.
"""

from __future__ import annotations

import errno
import socket

# Errors of reaching a server over the network (the database's, as the commands see it).
_UNREACHABLE_ERRNOS = frozenset({errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT,
                                 errno.ECONNRESET})


def database_failure(exc: BaseException) -> str:
    """The reason a database could not be used, as one line without the `error: ` prefix."""
    reason = (str(getattr(exc, "orig", None) or exc) or type(exc).__name__).splitlines()[0]
    return f"cannot use the database: {reason}"


def unreachable(exc: OSError) -> bool:
    """Whether an OSError is a failure to reach a server (refused, unknown host, timed out), not
    a local file's: asyncpg raises these as they are when PostgreSQL does not answer, and a
    plain OSError naming "Multiple exceptions" when every address of the host refused."""
    if isinstance(exc, (ConnectionError, socket.gaierror, TimeoutError)):
        return True
    return exc.errno in _UNREACHABLE_ERRNOS or (exc.errno is None and str(exc).startswith("Multiple exceptions"))
