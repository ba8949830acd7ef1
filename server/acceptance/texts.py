"""Every user-facing text of the acceptance feature (Simplified Chinese), in one place."""

from __future__ import annotations

# WebSocket refusals, by error code.
SIGNAL_ERRORS: dict[str, str] = {
    "unknown_notice": "告知内容已更新，请返回重新阅读后再确认",
    "consent_declined": "居民不同意拍摄材料，本次只能咨询，不能拍照留存",
}
# `form_send` / `form_reply` refusals, by error code ({label}: the field's label).
FORM_ERRORS: dict[str, str] = {
    "not_in_call": "不在这个通话中",
    "no_form": "这个事项没有申请表",
    "form_unknown_field": "申请表没有“{label}”这一项",
    "form_field_missing": "请填写“{label}”",
    "form_bad_id_number": "“{label}”不是有效的公民身份号码（位数、出生日期或校验位不对）",
    "form_bad_date": "“{label}”不是有效日期，请按 年-月-日 填写",
    "form_bad_phone": "“{label}”不是有效的电话号码",
    "form_bad_choice": "“{label}”请从给出的选项中选择",
    "form_busy": "申请表正在发送，请稍后再试",
    "form_version_unknown": "这一版申请表没有在终端上显示过",
    "form_already_answered": "这一版申请表已经确认或要求修改过了",
    "form_signed": "居民已在申请表上签名，不能再修改发送",
}
# HTTP refusals, by error code.
HTTP_ERRORS: dict[str, str] = {
    "unknown_matter": "没有这个事项",
    "unknown_kiosk": "没有这台终端",
    "unknown_session": "没有这次服务",
    "no_receipt": "这次服务没有受理回执（只有受理和材料不全才有）",
    "not_allowed": "只有本次服务的终端、工作人员和主管可以查看",
    "no_signature": "这次服务还没有居民签名",
    "signature_unreadable": "签名图片无法读取（文件缺失或被改动）",
}
# `end_call` refusals.
END_ERRORS: dict[str, str] = {
    "case_number_typed": "受理编号由系统生成，请不要手工填写",
    "case_number_taken": "这个受理编号已经用过，请核对",
    "no_centre": "账号没有所属中心，无法生成受理编号，请联系管理员",
    "signature_required": "这个事项的申请表需要居民签名，请等居民在终端上签名后再受理",
    "missing_required": "材料不全时请勾选缺少的材料",
    "unknown_material": "缺少的材料不在这个事项的材料清单里",
}
# The signature upload, by error code.
SIGNATURE_ERRORS: dict[str, str] = {
    "bad_version": "请注明签署的申请表版本",
    "not_allowed": "只有本次服务的终端可以提交签名",
    "consent_required": "居民没有同意办理须知，不能留存签名",
    "missing_image": "没有收到签名图片",
    "too_large": "签名图片超过 1 MB",
    "not_png": "签名图片必须是 PNG 格式",
    "not_an_image": "签名图片无法读取",
    "bad_canvas": "签名图片的尺寸不对",
    "empty_signature": "签名太短，请在框内完整签上您的姓名",
    "not_a_signature": "这不像签名，请点“重写”后在框内签上您的姓名",
    "form_version_unknown": "这一版申请表没有在终端上显示过",
    "form_not_confirmed": "请先确认申请表无误，再签名",
    "already_signed": "这次服务已经签过名了",
    "storage_failed": "签名没有保存成功，请重试",
}
# The receipt (受理回执).
PROMISE_ON_THE_SPOT = "当场办结"
PROMISE_LATER = "已受理，办理结果将另行通知您"
# 一次性告知: what each kind of material must show when it is brought.
MUST_SHOW: dict[str, str] = {
    "id_card": "居民身份证原件，正反面清晰，在有效期内",
    "household_register": "户口簿首页和本人页，信息清晰完整",
    "social_security_card": "社会保障卡原件，卡号和姓名清晰",
    "marriage_certificate": "结婚证原件，持证人页和登记页清晰",
    "birth_certificate": "出生医学证明原件，信息清晰完整",
    "bank_card": "本人名下银行卡，卡号清晰",
    "residence_permit": "居住证原件，在有效期内",
    "disability_certificate": "残疾人证原件，等级和有效期清晰",
    "form": "申请表格，填写完整并签名",
    "other": "原件，内容清晰完整",
}
RECEIPT: dict[str, str] = {
    "title": "受理回执",
    "matter": "办理事项",
    "outcome": "办理结果",
    "case_number": "受理编号",
    "promise": "办理时限",
    "phone": "咨询电话",
    "issued_at": "出具时间",
    "missing_title": "一次性告知：请补齐以下材料后再来办理",
    "footer": "请妥善保管本回执，凭受理编号或扫描二维码查询办理进度。",
}
RECEIPT_OUTCOMES: dict[str, str] = {"accepted": "已受理", "incomplete": "材料不全"}
