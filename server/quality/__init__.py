"""Image quality check for document capture and the kiosk camera's device check.

Public API: analyse_document (still acceptance), analyse_camera (device check), analyse_luma (live
frames' Y plane), analyse_live / PageTracker (live frames in sequence: the page tracked from frame
to frame), rectify_document, QualityResult, LiveGuidance (auto-capture) and guidance_text.
"""

from server.quality.analyser import analyse_camera, analyse_document, analyse_luma
from server.quality.document import rectify_document
from server.quality.guidance import LiveGuidance, LiveState, guidance_text
from server.quality.loading import decode_image, read_image
from server.quality.result import Metrics, Mode, QualityResult, Reason
from server.quality.tracking import LiveAnalysis, PageHint, PageTracker, analyse_live

__all__ = [
    "LiveAnalysis", "LiveGuidance", "LiveState", "Metrics", "Mode", "PageHint", "PageTracker", "QualityResult",
    "Reason", "analyse_camera", "analyse_document", "analyse_live", "analyse_luma", "decode_image",
    "guidance_text", "read_image", "rectify_document",
]
