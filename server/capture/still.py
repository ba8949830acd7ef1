"""One pass from an uploaded still to the server's verdict and, when accepted, the stored images.

    bytes ──input checks (upload.py)──▶ claim the request ──verdict + rectification──▶ stored files (intake.py)

The request is claimed (moved to `checking`) only once the bytes are known to be an image, so an
unreadable upload neither waits behind another one nor costs the kiosk an attempt. The image
work runs in worker threads (numpy, OpenCV and Pillow release the GIL; a 24-megapixel still takes
a few hundred milliseconds), the claim on the event loop between them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np

from server.capture.intake import StoredImages, store_still
from server.capture.storage import CaptureStore
from server.capture.upload import validate_upload
from server.quality import analyse_document, rectify_document
from server.quality.result import Reason

# Claims the request for this still; returns whether the capture is manual. Raises UploadError.
Claim = Callable[[], Awaitable[bool]]


@dataclass
class StillVerdict:
    """The server's verdict on a still, and its stored images when accepted."""

    ok: bool
    reasons: list[Reason]
    # Analysis facts worth keeping with the record (no image content, no personal data).
    facts: dict[str, float] = field(default_factory=dict)
    stored: StoredImages | None = None


async def process_still(data: bytes, claim: Claim, store: CaptureStore, capture_id: str,
                        matter_name: str) -> StillVerdict:
    """Check the bytes, claim the request, judge the still and store it when accepted.

    Raises UploadError for input the checks refuse (before the claim) and whatever the claim
    raises; after the claim, any error leaves the request claimed for the caller to release.
    """
    image = (await asyncio.to_thread(validate_upload, data)).image
    manual = await claim()
    return await asyncio.to_thread(_judge_and_store, image, data, manual, store, capture_id, matter_name)


def _judge_and_store(image: np.ndarray, data: bytes, manual: bool, store: CaptureStore, capture_id: str,
                     matter_name: str) -> StillVerdict:
    """Analyse a still, rectify the document when its four corners were found, store it if kept.

    An automatic capture must pass every check. A manual one (the caseworker pressed 拍照) is
    kept whatever the analyser says, since the caseworker looked at the picture and chose it;
    its reasons travel along as warnings, and without four corners the original stands in for
    the rectified image.
    """
    result = analyse_document(image)
    corners = result.metrics.document.corners
    complete = result.metrics.document.found and len(corners) == 4 and "document_cut_off" not in result.reasons
    facts = {"sharpness": round(result.metrics.sharpness, 1), "brightness": round(result.metrics.brightness, 1),
             "glare_ratio": round(result.metrics.glare_ratio, 4), "analysis_ms": round(result.ms, 1)}
    if not result.ok and not manual:
        return StillVerdict(ok=False, reasons=list(result.reasons), facts=facts)
    rectified = rectify_document(image, corners) if complete else None
    stored = store_still(store, capture_id, matter_name, data, image, rectified)
    return StillVerdict(ok=True, reasons=list(result.reasons), facts=facts, stored=stored)
