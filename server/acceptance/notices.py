"""Versioned notice texts shown before queueing, rendered for one kiosk and one matter.

The texts are data (`notices.yaml` beside this module): a consent stores the version the resident
saw, so published versions are never edited, only superseded (docs/acceptance.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

NOTICE_FILE = "notices.yaml"


class NoticeText(BaseModel):
    """One version of the notice, with its placeholders."""

    model_config = ConfigDict(extra="forbid")

    title: str
    call: str
    capture: list[str] = Field(min_length=1)
    no_capture: str
    recording: str
    decline: str


class NoticeBook(BaseModel):
    """Every published version and the one shown now."""

    model_config = ConfigDict(extra="forbid")

    current: str
    versions: dict[str, NoticeText]

    def model_post_init(self, context: Any) -> None:
        if self.current not in self.versions:
            raise ValueError(f"current notice version {self.current!r} is not among the versions")


@dataclass(frozen=True)
class NoticeFacts:
    """What a notice names: the centre, the photographed materials, retention and recording."""

    centre: str
    materials: list[str]
    retention_days: int
    recording: bool


class RenderedNotice(BaseModel):
    """The notice as the kiosk shows it (`GET /api/v1/kiosk/notice`)."""

    version: str
    title: str
    paragraphs: list[str]
    decline: str
    captures: bool
    recording: bool


@cache
def notice_book() -> NoticeBook:
    """The notice texts shipped with the server (read once)."""
    text = files("server.acceptance").joinpath(NOTICE_FILE).read_text(encoding="utf-8")
    return NoticeBook.model_validate(yaml.safe_load(text))


def render(book: NoticeBook, facts: NoticeFacts, version: str | None = None) -> RenderedNotice:
    """The notice of `version` (default: current) with the facts filled in."""
    version = version or book.current
    text = book.versions[version]
    values = {"centre": facts.centre, "materials": "、".join(facts.materials), "retention_days": facts.retention_days}
    paragraphs = [text.call.format(**values)]
    paragraphs += [p.format(**values) for p in text.capture] if facts.materials else [text.no_capture]
    if facts.recording:
        paragraphs.append(text.recording)
    return RenderedNotice(version=version, title=text.title, paragraphs=paragraphs, decline=text.decline,
                          captures=bool(facts.materials), recording=facts.recording)
