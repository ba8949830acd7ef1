"""User-facing error texts of the recording API (Simplified Chinese)."""

from __future__ import annotations

ERRORS: dict[str, str] = {
    "unknown_session": "没有这个办理记录",
    "not_your_session": "这不是您办理的通话,不能上传录像",
    "not_live": "通话已结束,不能再上传录像片段",
    "recording_closed": "录像已结束,不能再上传片段",
    "consent_declined": "居民未同意告知事项,本次通话不录像",
    "bad_index": "片段序号无效(应为 0 到 {max} 的整数)",
    "too_large": "录像片段过大(不能超过 {limit} 字节)",
    "empty_chunk": "录像片段为空",
    "chunk_conflict": "该序号的片段已保存且内容不同,已拒绝并记录",
    "storage_low": "服务器存储空间不足,录像暂停上传(通话不受影响)",
    "storage_failed": "录像片段保存失败,请稍后重试",
    "not_allowed": "无权查看该录像",
    "no_recording": "该办理没有录像",
    "purged": "录像已按保存期限删除",
    "unreadable": "录像文件无法读取",
    "range": "请求的范围超出录像长度",
    "bad_variant": "variant 只能是 original 或 player",
}
