"""The administration feature's routes: the /admin page and the /api/v1/admin API."""

from __future__ import annotations

from server.admin import views_catalog, views_hours, views_people, views_structure
from server.http.routing import Route

ROUTES: list[Route] = views_structure.ROUTES + views_people.ROUTES + views_catalog.ROUTES + views_hours.ROUTES
