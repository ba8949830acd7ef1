"""The matters catalog over HTTP: list and search, one matter, departments."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web
from pydantic import BaseModel, TypeAdapter

from matters_catalog.schema import MODES, PublicMatter
from server.catalog.service import CATALOG
from server.http.errors import ApiError

# Longer queries cannot match any matter name; cutting them keeps hostile input cheap.
MAX_QUERY_CHARS = 100
# Serialises a catalog Matter with the public fields only (pydantic dumps by the declared type).
_PUBLIC: TypeAdapter[PublicMatter] = TypeAdapter(PublicMatter)


class MattersOut(BaseModel):
    """A page of matters (as PublicMatter: the form override is not the kiosks' business)."""

    version: str
    total: int
    matters: Sequence[PublicMatter]


class DepartmentOut(BaseModel):
    """A department and how many active matters it has."""

    name: str
    matters: int


class DepartmentsOut(BaseModel):
    """Departments in display order."""

    version: str
    departments: list[DepartmentOut]


def _json(model: BaseModel) -> web.Response:
    return web.json_response(text=model.model_dump_json())


async def list_matters(request: web.Request) -> web.Response:
    """Active matters, filtered by `q` (Chinese, pinyin, initials), `department` and `mode`."""
    mode = request.query.get("mode") or None
    if mode is not None and mode not in MODES:
        raise ApiError(400, "bad_mode", f"mode 只能是 {', '.join(MODES)}")
    department = request.query.get("department") or None
    q = request.query.get("q", "")[:MAX_QUERY_CHARS]
    service = request.app[CATALOG]
    matters = await service.search(q, department, mode)
    return _json(MattersOut(version=service.catalog.version, total=len(matters), matters=matters))


async def get_matter(request: web.Request) -> web.Response:
    """One matter by id, with its materials."""
    catalog = await request.app[CATALOG].current()
    matter = catalog.by_id(request.match_info["matter_id"])
    if matter is None:
        raise ApiError(404, "unknown_matter", "没有这个事项")
    return web.json_response(text=_PUBLIC.dump_json(matter).decode())


async def list_departments(request: web.Request) -> web.Response:
    """Departments with active matters, in display order."""
    catalog = await request.app[CATALOG].current()
    counts: dict[str, int] = {}
    for matter in catalog.matters:
        counts[matter.department] = counts.get(matter.department, 0) + 1
    departments = [DepartmentOut(name=name, matters=counts[name]) for name in catalog.departments]
    return _json(DepartmentsOut(version=catalog.version, departments=departments))
