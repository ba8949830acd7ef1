"""Who may use what: the access table of docs/security.md, generated from the route table and the
protocol's message permissions so the document cannot drift from the code."""

from __future__ import annotations

from server.protocol.messages import ALLOWED_TYPES, CLIENT_MESSAGE
from server.routes import ROUTES

ROLES = ("anonymous", "kiosk", "caseworker", "supervisor", "admin")


def route_allows(route_roles: tuple[str, ...], role: str) -> bool:
    """True when a role may call an endpoint with these declared roles."""
    return "public" in route_roles or role in route_roles


def http_rows() -> list[tuple[str, str, list[bool]]]:
    """(method, path, allowed per role) for every HTTP endpoint."""
    return [(r.method, r.path, [route_allows(r.roles, role) for role in ROLES]) for r in ROUTES]


def message_types() -> list[str]:
    """Every client message type of the protocol, in schema order."""
    union = CLIENT_MESSAGE.core_schema
    choices = union.get("schema", union).get("choices", {})
    return [str(name) for name in choices]


def message_rows() -> list[tuple[str, list[bool]]]:
    """(message type, allowed per role) for every WebSocket message after `hello`."""
    rows = []
    for type_ in message_types():
        if type_ == "hello":
            continue
        rows.append((type_, [role != "anonymous" and type_ in ALLOWED_TYPES.get(role, frozenset()) for role in ROLES]))
    return rows


def markdown() -> str:
    """The two tables as Markdown."""
    mark = {True: "yes", False: "—"}
    lines = ["| method | path | " + " | ".join(ROLES) + " |", "|---|---|" + "---|" * len(ROLES)]
    lines += [f"| {m} | `{p}` | " + " | ".join(mark[a] for a in allowed) + " |" for m, p, allowed in http_rows()]
    lines += ["", "| message | " + " | ".join(ROLES) + " |", "|---|" + "---|" * len(ROLES)]
    lines += [f"| `{t}` | " + " | ".join(mark[a] for a in allowed) + " |" for t, allowed in message_rows()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
