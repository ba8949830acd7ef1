"""The analyser on scenes drawn by other means than the generator it was tuned on
(tests/quality_fixtures/drawn.py): every good scene accepted, every bad one rejected with its reason."""

from __future__ import annotations

import pytest

from server.quality import analyse_document
from tests.quality_fixtures.drawn import DrawnScene, drawn_scenes

SCENES = drawn_scenes()


@pytest.mark.parametrize("scene", SCENES, ids=[s.name for s in SCENES])
def test_drawn_scene(scene: DrawnScene) -> None:
    result = analyse_document(scene.image)
    if scene.expected == "ok":
        assert result.ok, (scene.name, result.reasons)
        assert result.metrics.document.found
    else:
        assert not result.ok, scene.name
        assert scene.expected in result.reasons, (scene.name, result.reasons)


def test_the_set_has_both_kinds() -> None:
    good = [s for s in SCENES if s.expected == "ok"]
    assert len(good) == 23 and len(SCENES) - len(good) == 8
    assert len({s.name for s in SCENES}) == len(SCENES)
