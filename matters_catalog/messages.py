"""Operator-facing messages (Simplified Chinese), gathered here so wording stays consistent."""

from __future__ import annotations

from typing import Final

FIELD_LABELS: Final[dict[str, str]] = {
    "id": "事项编号",
    "name": "名称",
    "department": "部门",
    "category": "类别",
    "mode": "办理方式",
    "on_the_spot": "是否当场办结",
    "typical_minutes": "预计办理分钟数",
    "skill": "所需技能",
    "guide": "办事指南",
    "materials": "材料",
    "capture": "是否拍摄",
    "document_type": "材料类型",
    "version": "目录版本",
    "files": "部门文件列表",
    "skills": "技能表",
    "form_fields": "申请表字段",
    "form_omit": "申请表省略字段",
    "signature_required": "是否需要签名",
}

MISSING_FIELD = "{where}：缺少{label}（{field}）"
UNKNOWN_FIELD = "{where}：未知字段 {field}"
UNKNOWN_DEPARTMENT = "{where}：未知部门“{value}”（可选：{choices}）"
UNKNOWN_DOCUMENT_TYPE = "{where}：{label}“{value}”无效（可选：{choices}）"
BAD_MODE = "{where}：办理方式“{value}”无效（可选：handle 办理、consult 咨询、both 办理和咨询）"
BAD_SLUG = "{where}：{label}“{value}”格式无效（只能用小写字母、数字和连字符，最长 40 个字符）"
BAD_INT = "{where}：{label}应为 1 到 240 之间的整数，实际为“{value}”"
BAD_BOOL = "{where}：{label}应为 true/false（或 是/否），实际为“{value}”"
EMPTY_TEXT = "{where}：{label}不能为空"
TOO_LONG = "{where}：{label}过长（最多 {limit} 个字符）"
BAD_MATERIAL_NAME = "{where}：材料名称不能包含分号或方括号：“{value}”"
INVISIBLE_CHARACTER = "{where}：{label}含有看不见的字符或控制字符（如换行、零宽字符、文字方向控制符），请删去：{value}"
BAD_VALUE = "{where}：{label}的值“{value}”无效"

DUPLICATE_ID = "{where}：事项编号 {id} 重复（已在{first}出现）"
DUPLICATE_NAME = "{where}：{department}已有同名事项“{name}”（{first}）"
DUPLICATE_SKILL = "{where}：技能编号 {id} 重复"
UNKNOWN_SKILL = "{where}：未知技能 {skill}（技能表中没有）"
UNUSED_SKILL = "技能 {skill}（{name}）没有任何事项使用"
WRONG_COUNT = "事项总数应为 {expected}，实际为 {actual}"
NO_MATTERS = "没有任何事项"

MISSING_FILE = "缺少文件 {path}"
BAD_YAML = "{path}：YAML 格式错误：{detail}"
NOT_A_MAPPING = "{path}：顶层应为键值结构"
NOT_A_LIST = "{where}：{label}应为列表"
UNLISTED_FILE = "{path}：未在 catalog.yaml 的 files 中列出"

UNSUPPORTED_FILE = "{path}：不支持的文件类型（只支持 .csv 和 .xlsx）"
UNREADABLE_FILE = "{path}：无法读取：{detail}"
MISSING_COLUMNS = "表头缺少列：{columns}"
UNKNOWN_COLUMNS = "表头有未知列：{columns}"
EMPTY_SHEET = "表格为空（没有表头）"
BAD_MATERIAL_ITEM = "{where}：材料“{value}”格式应为“名称[capture:类型]”或“名称[类型]”"

# The form columns (form_fields, form_omit, signature_required); `column` names the spreadsheet column.
BAD_FORM_ITEM = ("{where}：{column}的“{value}”格式应为“标签[key:类型]”、“标签[key:类型:required]”"
                 "或“标签[key:choice:required:选项1|选项2]”")
BAD_FORM_KEY = "{where}：{column}的键“{key}”格式无效（小写字母开头，只能用小写字母、数字和下划线，最长 40 个字符）"
UNKNOWN_FORM_TYPE = "{where}：{column}“{label}”的类型“{value}”无效（可选：{choices}）"
CHOICES_NOT_ALLOWED = "{where}：{column}“{label}”不是 choice 类型，不能列出选项"
CHOICES_MISSING = "{where}：{column}“{label}”是 choice 类型，必须列出选项（用 | 分隔）"
BAD_CHOICE = "{where}：{column}“{label}”的选项“{value}”无效（不能为空，最多 40 个字符，不能含 ; : | 或方括号）"
TOO_MANY_CHOICES = "{where}：{column}“{label}”的选项过多（最多 {limit} 个）"
DUPLICATE_FORM_KEY = "{where}：{column}的键 {key} 重复"
FORM_LABEL_TOO_LONG = "{where}：{column}“{label}”的标签过长（最多 {limit} 个字符）"
TOO_MANY_FORM_FIELDS = "{where}：{column}过多（最多 {limit} 个）"
OMIT_NOT_INHERITED = "{where}：{column}中的 {key} 不是从默认表或部门表继承的字段（可省略：{keys}）"
FORM_COLUMN = "{label}（{column}）"

ROW = "第 {row} 行"
ITEM = "{path} 第 {index} 项（{id}）"
SKILL_ITEM = "{path} 第 {index} 项"
MATERIAL = "{where} 材料 {index}"

# Dry-run / apply report of `jinglin catalog import`.
DIFF_ADDED = "新增 {count} 项"
DIFF_CHANGED = "修改 {count} 项"
DIFF_RETIRED = "停用 {count} 项（保留历史记录）"
DIFF_UNRETIRED = "恢复 {count} 项"
DIFF_NONE = "没有变化"
DIFF_VERSION = "目录版本：{old} → {new}"
DRY_RUN_NOTE = "（预览，未写入数据库；确认无误后加 --apply 写入）"
APPLIED = "已写入数据库。"
REJECTED = "表格有 {count} 处错误，未写入任何内容："
NO_DATABASE = "数据库不可用或未初始化（请先运行 jinglin migrate）：{detail}"
