// Every word of the supervisor dashboard, in one place (house style: user-facing text together).

export const T = {
  brand: "静邻帮办",
  brand_sub: "值班主管看板",
  nav_live: "实时",
  nav_reports: "报表",
  nav_staffing: "人力测算",
  nav_followups: "回访",
  nav_kiosks: "终端",
  logout: "退出",
  conn_connecting: "连接中…",
  conn_live: "实时",
  conn_lost: "已断开，正在重连",
  login_title: "值班主管登录",
  login_username: "用户名",
  login_password: "密码",
  login_submit: "登录",
  login_failed: "用户名或密码不正确",
  login_wrong_role: "此看板仅供值班主管和管理员使用",
  login_error: "暂时无法登录，请稍后再试",

  live_title: "实时队列",
  filter_centre: "受理中心",
  filter_street: "街道",
  filter_department: "部门",
  filter_matter: "事项",
  filter_all: "全部",
  alert_wait: "最长等待告警（秒）",
  alert_abandon: "放弃率告警（%）",
  tile_waiting: "排队人数",
  tile_longest: "最长等待",
  tile_available: "空闲受理员",
  tile_in_call: "通话中",
  tile_sl: "服务水平 SL",
  tile_sl2: "服务水平 SL2",
  tile_offered: "今日进线",
  tile_answered: "今日接通",
  tile_abandoned: "今日放弃",
  tile_avg_wait: "平均等待",
  tile_p90_wait: "90% 等待",
  tile_handle: "平均办理时长",
  sl_sub: (s) => `${s} 秒内接通`,
  caseworkers_title: "受理员",
  by_matter_title: "今日按事项",
  by_street_title: "今日按街道",
  col_name: "姓名",
  col_state: "状态",
  col_in_state: "持续",
  col_skills: "技能",
  col_matter: "事项",
  col_street: "街道",
  col_waiting: "排队",
  col_offered: "进线",
  col_answered: "接通",
  col_abandoned: "放弃",
  col_sl: "SL",
  col_sl2: "SL2",
  col_avg_wait: "平均等待",
  col_p90_wait: "90% 等待",
  col_max_wait: "最长等待",
  col_handle: "平均时长",
  col_rating: "平均评分",
  col_bad: "差评",
  col_group: "分组",
  none: "无",
  states: {
    available: "空闲",
    offered: "振铃中",
    in_call: "通话中",
    wrap_up: "整理中",
    break: "小休",
    offline: "离线",
  },
  counts: (c) => `空闲 ${c.available} · 振铃 ${c.offered} · 通话 ${c.in_call} · 整理 ${c.wrap_up} · 小休 ${c.break} · 离线 ${c.offline}`,
  alerts: {
    longest_wait: (a) => `最长等待已 ${minutes(a.value)}，超过 ${minutes(a.limit)}`,
    abandonment: (a) => `今日放弃率 ${percent(a.value)}，超过 ${percent(a.limit)}`,
    no_caseworker: (a) => `${a.value} 位居民在排队，但没有在岗受理员`,
    camera: (a) => `${a.value} 台终端摄像头状况不佳，请安排擦拭或检修`,
  },

  reports_title: "报表",
  report_from: "开始日期",
  report_to: "结束日期",
  report_by: "分组",
  report_run: "查询",
  export_csv: "导出 CSV",
  export_xlsx: "导出 Excel",
  by: {
    matter: "事项", department: "部门", street: "街道", centre: "受理中心", kiosk: "终端",
    caseworker: "受理员", hour: "时段", day: "日", week: "周", month: "月",
  },
  unassigned: "（未接通）",
  report_empty: "所选时间内没有记录",
  report_failed: "报表读取失败",
  series_offered: "进线",
  series_answered: "接通",
  series_abandoned: "放弃",

  staffing_title: "人力测算（Erlang C）",
  staffing_date: "日期",
  staffing_target: "目标服务水平（%）",
  staffing_note: (d) => `按 ${d.threshold_s} 秒内接通 ${Math.round(d.target_sl * 100)}% 的目标测算每小时所需受理员；无时长数据的时段按 ${Math.round(d.default_handle_s / 60)} 分钟计。`,
  series_arrivals: "进线量",
  series_needed: "所需受理员",
  series_on_duty: "实际在岗（平均）",
  hour_label: (h) => `${String(h).padStart(2, "0")}时`,

  followups_title: "差评回访",
  followups_empty: "暂无回访事项",
  followup_counts: (d) => `未办结 ${d.open} · 已超期 ${d.overdue}`,
  followup_states: { open: "待回访", contacted: "已联系", resolved: "已办结" },
  followup_overdue: "已超期",
  followup_due: (t) => `应于 ${t} 前回访`,
  followup_contacted: "标记已联系",
  followup_resolve: "办结",
  followup_note: "回访说明（办结时必填）",
  followup_note_required: "办结前请填写回访说明",
  followup_failed: "保存失败，请重试",
  followup_recording: "回放录像",
  stars: (n) => `${"★".repeat(n)}${"☆".repeat(5 - n)}`,

  nav_recordings: "录音录像",
  tile_recordings_missing: "今日录像不完整",
  recordings_title: "今日办理录音录像",
  recording_counts: (d) => `已接通 ${d.sessions} · 录像不完整 ${d.without_complete}`,
  rec_col_ticket: "排队号",
  rec_col_matter: "事项",
  rec_col_caseworker: "受理员",
  rec_col_state: "录像",
  rec_play: "回放",
  rec_states: { recording: "录制中", complete: "完整", partial: "不完整", missing: "缺失" },
  rec_reasons: {
    gap: "有片段缺失", not_closed: "未正常结束", not_started: "未开始录制", no_chunks: "无录像片段",
    unsupported: "浏览器不支持录像", consent_declined: "居民不同意录像", disabled: "录像未开启",
    recorder_error: "录像出错", stopped_early: "提前中止", purged: "已过保存期删除",
  },
  rec_facts: (r) => `时长 ${r.duration_s === null ? "—" : minutesText(r.duration_s)} · 大小 ${(r.bytes / 1048576).toFixed(1)} MB · 片段 ${r.chunks}`
    + (r.missing.length ? ` · 缺失片段 ${r.missing.join(", ")}` : ""),
  rec_viewed_note: "每次回放都会记入审计日志",

  kiosks_title: "终端状态",
  kiosk_counts: (d) => `在线 ${d.online} / ${d.total}`,
  kiosk_online: "在线",
  kiosk_offline: "离线",
  kiosk_camera: (v) => `摄像头 ${v === null || v === undefined ? "—" : Math.round(v * 100)}`,
  kiosk_declining: "画质下降",
  kiosk_last_seen: (t) => `最后在线 ${t || "—"}`,
};

/** Seconds as "3分05秒" (or "45秒"). */
export function minutes(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}秒`;
  return `${Math.floor(s / 60)}分${String(s % 60).padStart(2, "0")}秒`;
}

/** A ratio as "85.0%". */
export function percent(ratio) {
  return ratio === null || ratio === undefined ? "—" : `${(ratio * 100).toFixed(1)}%`;
}

function minutesText(seconds) {
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}分${String(s % 60).padStart(2, "0")}秒` : `${s}秒`;
}
