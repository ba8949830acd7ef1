"""Spread the skill vocabulary over caseworkers: a few skills each, every skill covered."""

from __future__ import annotations

from collections.abc import Sequence


def assign_skills(skill_ids: Sequence[str], caseworkers: int, per_caseworker: int = 3) -> list[list[str]]:
    """Skill lists for `caseworkers` people, each with `per_caseworker` distinct skills.

    Deals skills round-robin, so when caseworkers * per_caseworker >= len(skill_ids) every skill
    goes to at least one caseworker (a centre's staff covers the whole catalog) and no skill is
    held by more than one person more than any other. Deterministic, for reproducible demo seeds.
    """
    if caseworkers < 0 or per_caseworker < 1:
        raise ValueError("caseworkers must be >= 0 and per_caseworker >= 1")
    if not skill_ids:
        return [[] for _ in range(caseworkers)]
    per_caseworker = min(per_caseworker, len(skill_ids))
    assignments: list[list[str]] = []
    for person in range(caseworkers):
        start = person * per_caseworker
        assignments.append([skill_ids[(start + k) % len(skill_ids)] for k in range(per_caseworker)])
    return assignments
