"""Every user-facing text of the capture pipeline (Simplified Chinese), in one place."""

from __future__ import annotations

# HTTP upload refusals, by error code.
UPLOAD_ERRORS: dict[str, str] = {
    "missing_image": "请求中没有图像（multipart 字段 image）",
    "bad_multipart": "请求体不是有效的 multipart/form-data",
    "too_large": "图像不能超过 8 MiB",
    "unsupported_type": "只接受 JPEG 或 PNG 图像",
    "not_an_image": "无法读取图像，请重新拍摄",
    "too_many_pixels": "图像像素不能超过 2400 万",
    "unknown_capture": "没有这个拍照请求",
    "wrong_kiosk": "这个拍照请求不属于本终端",
    "capture_closed": "这个拍照请求已经结束",
    "capture_busy": "上一张照片正在检查，请稍候",
    "storage_full": "服务器存储空间已满，照片未保存，请联系管理员",
}
# Reading images back.
VIEW_ERRORS: dict[str, str] = {
    "unknown_capture": "没有这张图像",
    "not_allowed": "只有本次服务的工作人员和主管可以查看",
    "purged": "图像已超过保存期限并已删除",
    "unknown_session": "没有这次服务",
    "bad_variant": "variant 只能是 rectified 或 original",
}
# WebSocket refusals.
SIGNAL_ERRORS: dict[str, str] = {
    "not_in_call": "不在这个通话中",
    "unknown_material": "这个事项没有这项材料",
    "unknown_capture": "没有这个拍照请求",
    "not_capture_member": "这个拍照请求不属于你",
    "capture_closed": "这个拍照请求已经结束",
    "wrong_state": "现在不能这样操作",
    "analysis_busy": "服务器繁忙，暂时不能自动拍照，请由工作人员手动拍照",
    "bad_signal": "拍照连接的信令无效",
}
# Shown to the resident and the caseworker.
ACCEPTED = "拍好了，请等待工作人员确认"
ANALYSIS_BUSY = "自动拍照暂不可用，请工作人员手动拍照"
