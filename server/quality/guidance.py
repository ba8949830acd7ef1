"""Plain Chinese guidance for each reason, and the live auto-capture steadiness tracker.

The kiosk shows one short instruction at a time (the top reason), in words an elderly resident
reads at a glance. All user-facing text of the quality check is gathered here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from server.quality import thresholds as t
from server.quality.result import Mode, QualityResult, Reason

GUIDANCE: dict[Reason, str] = {
    "no_document": "请把证件放到镜头前",
    "document_cut_off": "证件不完整，请把整张证件放进画面",
    "document_too_small": "放近一些",
    "too_dark": "光线太暗",
    "too_bright": "光线太亮",
    "glare": "有反光，请把证件稍微倾斜",
    "low_contrast": "画面发灰，请擦拭镜头",
    "blurry": "请拿稳",
    "low_resolution": "图像太小，请重新拍摄",
    "camera_blocked": "镜头被挡住了",
    "unreadable_image": "无法读取图像，请重新拍摄",
}
# In the device check nobody holds anything: a blurred or grey picture means a dirty lens.
CAMERA_GUIDANCE: dict[Reason, str] = {
    **GUIDANCE,
    "blurry": "请擦拭镜头",
    "low_contrast": "请擦拭镜头",
    "too_dark": "光线太暗，请打开灯",
    "camera_blocked": "镜头被挡住了，请移开遮挡物",
}
HOLD_STILL = "请拿稳，不要动"
CAPTURING = "正在拍照，请保持不动"


def guidance_text(reason: Reason, mode: Mode = "document") -> str:
    """The instruction shown to the resident for reason."""
    return (CAMERA_GUIDANCE if mode == "camera" else GUIDANCE)[reason]


@dataclass(frozen=True)
class LiveState:
    """What the kiosk shows after a frame; ready means: take the full-resolution still now."""

    ready: bool
    steady_frames: int
    reason: Reason | None
    text: str


@dataclass
class LiveGuidance:
    """Feed it one analysed frame at a time (document mode); it tells when to auto-capture.

    Ready once the document has been found, sharp, well exposed and glare-free (the result is ok)
    for steady_frames frames in a row, each with its corners moving less than max_shift of the
    frame diagonal or with a picture that did not change (`change`, PageTracker.change, at most
    max_change: the search may pick another outline of an unmoved page). Call reset() after
    capturing, or when the caseworker asks for another document.
    """

    steady_frames: int = t.STEADY_FRAMES
    max_shift: float = t.STEADY_MAX_SHIFT
    max_change: float = t.STILL_MAX_CHANGE
    _count: int = field(default=0, init=False)
    _last: np.ndarray | None = field(default=None, init=False, repr=False)

    def reset(self) -> None:
        """Forget the frames seen so far."""
        self._count, self._last = 0, None

    def update(self, result: QualityResult, change: float | None = None) -> LiveState:
        """Account for one frame's result (and how much the picture changed since the last
        frame, if known) and return what to show."""
        corners = result.metrics.document.corners
        if not result.ok or len(corners) != 4:
            self.reset()
            reason = result.top_reason or "no_document"
            return LiveState(False, 0, reason, guidance_text(reason))
        current = np.asarray(corners, np.float32)
        diagonal = float(np.hypot(result.width, result.height)) or 1.0
        unmoved = change is not None and change <= self.max_change
        if self._last is not None and (
                unmoved or float(np.abs(current - self._last).max()) <= self.max_shift * diagonal):
            self._count += 1
        else:
            self._count = 1  # the first frame at a new position starts a new run
        self._last = current
        ready = self._count >= self.steady_frames
        return LiveState(ready, self._count, None, CAPTURING if ready else HOLD_STILL)
