// Every word the caseworker sees, in one place (Simplified Chinese). The template carries only
// data-text keys; dom.js fills them from here, and modules read the rest (labels, formatters).

export const T = {
  application_title: "申请表（同屏确认）",
  application_hint: "填写后发送到居民屏幕，请居民核对",
  form_send: "发送给居民确认",
  form_choose: "请选择",
  form_placeholders: { date: "例：1950-01-01", id_number: "18位公民身份号码", phone: "手机或带区号的座机" },
  form_states: {
    none: "尚未发送",
    sent: "已发送，等待居民确认",
    confirmed: "居民已确认无误",
    change_requested: "居民要求修改，请修改后重新发送",
    signed: "居民已签名",
  },
  form_errors: {
    form_field_missing: (label) => `请填写“${label}”`,
    form_bad_id_number: (label) => `“${label}”不是有效的公民身份号码（位数、出生日期或校验位不对）`,
    form_bad_date: (label) => `“${label}”不是有效日期，请按 年-月-日 填写`,
    form_bad_phone: (label) => `“${label}”不是有效的电话号码`,
    form_bad_choice: (label) => `“${label}”请从给出的选项中选择`,
  },
  brand: "静邻帮办",
  brand_sub: "受理工作台",
  title: "静邻帮办 · 受理工作台",

  // sign-in
  login_title: "受理员登录",
  login_hint: "使用受理中心分配的账号登录",
  login_username: "用户名",
  login_password: "密码",
  login_submit: "登录",
  login_busy: "正在登录…",
  login_failed: "用户名或密码不正确",
  login_error: "登录失败，请稍后再试",
  login_wrong_role: "此账号不是受理员账号，请使用受理员账号登录",
  logout: "退出登录",
  connecting: "正在连接服务…",
  connecting_short: "连接中",
  offline_banner: "与服务器的连接已断开，正在重新连接…",
  fatal_banner: "连接被服务器拒绝，请刷新页面重新登录",

  // status controls
  status_label: "状态",
  status_available: "接单",
  status_break: "小休",
  status_offline: "下线",
  break_reason_label: "小休原因",
  break_reasons: ["休息", "用餐", "会议", "培训", "其他"],
  agent_state: {
    offline: "未上线",
    available: "空闲 · 等待来电",
    offered: "来电中",
    in_call: "通话中",
    wrap_up: "整理中",
    break: "小休",
  },
  missed_offer: "错过来电",
  idle_offline_title: "您尚未上线",
  idle_offline_body: "点击右上角“接单”开始接听居民来电。",
  idle_available_title: "等待来电",
  idle_available_body: "有居民排队时会响铃提示，请留意。",
  idle_break_title: (reason) => `小休中${reason ? `（${reason}）` : ""}`,
  idle_break_body: "点击“接单”恢复接听。",
  idle_missed_body: "刚才的来电无人接听，已放回队列，居民的位置不变。点击“接单”恢复接听。",
  status_failed: "状态切换失败：",

  // offer
  offer_title: "新的来电",
  offer_matter: "事项",
  offer_site: "站点",
  offer_street: "街道",
  offer_waited: "已等待",
  offer_expires: (s) => `${s} 秒内未接听，来电将放回队列`,
  offer_accept: "接听",
  offer_reject: "拒绝",
  offer_withdrawn: "来电已撤回",
  offer_failed: "接听失败：",
  priority: { normal: "", elderly: "老年人优先", disabled: "残疾人优先", appointment: "预约" },

  // call
  call_ticket: (n) => `排队号 ${n}`,
  call_connecting: "正在接通视频…",
  peer_offline: "居民端连接中断，正在等待重连…",
  reconnecting: "网络波动，正在恢复视频…",
  own_preview: "本人画面",
  no_camera: "无法打开摄像头或麦克风，请检查设备后重新接听",
  mute: "静音",
  unmute: "取消静音",
  quality: { unknown: "检测中", good: "通话质量良好", fair: "通话质量一般", poor: "通话质量差" },
  call_elapsed: "通话时长",
  recording_states: { recording: "录像中", uploading: "录像上传中", complete: "录像已保存", failed: "录像异常" },

  // materials and capture
  materials_title: "材料清单",
  consent: {
    accepted: (version) => `居民已同意办理须知（版本 ${version}），可以拍摄材料`,
    declined: (version) => `居民不同意拍摄材料（须知版本 ${version}）：只能咨询，不能拍照留存`,
    none: () => "终端未显示办理须知",
  },
  capture_refused_consent: "居民不同意拍摄材料，不能拍照",
  materials_hint: "勾选已核验的材料；未勾选的即为缺少的材料",
  materials_none: "本事项无需材料",
  capture_button: "拍照",
  capture_again: "重拍",
  capture_waiting: "已请求居民出示材料，等待自动拍摄…",
  capture_take_now: "立即拍摄",
  capture_cancel: "取消拍照",
  capture_uploading: "已拍摄，正在处理图像…",
  capture_asked: "已请居民终端拍摄，等待图像上传…",
  capture_retry: "图像不合格，请居民重新出示：",
  capture_review_title: (material) => `核验材料：${material}`,
  capture_accept: "图像合格",
  capture_retake: "要求重拍",
  capture_original: "查看原图",
  capture_accepted: "已采集",
  capture_unavailable: "拍照服务暂不可用，请稍后再试",
  capture_failed: "拍照请求失败：",
  capture_busy: "请先完成当前材料的拍照",
  document_types: {
    id_card: "身份证",
    household_register: "户口簿",
    social_security_card: "社保卡",
    marriage_certificate: "结婚证",
    birth_certificate: "出生证明",
    bank_card: "银行卡",
    residence_permit: "居住证",
    disability_certificate: "残疾人证",
    form: "表格",
    other: "其他",
  },

  // outcome
  outcome_title: "办理结果",
  outcome_label: "结果",
  outcome_choose: "请选择办理结果",
  outcomes: {
    accepted: "受理",
    completed: "办结",
    answered: "咨询已答复",
    transfer: "转办",
    incomplete: "材料不全",
    abandoned: "居民离开",
  },
  case_number_label: "外部系统受理编号（可选）",
  case_number_placeholder: "留空由本系统生成",
  case_number_auto: "受理编号由系统在受理时生成，并显示在居民的受理回执上",
  transfer_skill_label: "转至业务",
  skill_choose: "请选择业务",
  transfer_note_label: "转办说明",
  transfer_note_placeholder: "向接手的受理员说明情况",
  missing_label: "缺少的材料",
  missing_none: "（请在材料清单中取消勾选缺少的材料）",
  missing_checks_hint: "写进居民一次性告知回执的材料（可取消勾选）：",
  notes_label: "备注",
  notes_placeholder: "办理情况备注（可选）",
  end_call: "结束通话",
  end_call_busy: "正在结束…",
  err_outcome: "请选择办理结果",
  err_skill: "请选择转至的业务",
  err_missing: "选择“材料不全”时，请在材料清单中取消勾选缺少的材料",
  err_server: "操作失败：",
  skill_option: (name, department, count) => `${name}（${department} · ${count} 项事项）`,

  // wrap-up
  wrap_title: "整理中",
  wrap_body: "请完成本次办理的记录整理，倒计时结束后将自动恢复接单。",
  wrap_remaining: (s) => `剩余 ${s} 秒`,
  wrap_finish: "结束整理",
  wrap_last: (matter, outcome) => `上一位：${matter} · ${outcome}`,

  // 回电 requests of the centre (callbacks.js)
  callbacks_title: "回电请求",
  callbacks_note: "居民在终端留下的电话，请按时回电；接手后可见完整号码",
  callbacks_empty: "暂无待回电的请求",
  callback_counts: (n, overdue) => (overdue ? `共 ${n} 条 · 已超期 ${overdue} 条` : `共 ${n} 条`),
  callback_states: { open: "待接手", taken: "我已接手", done: "已回电", unreachable: "联系不上" },
  callback_overdue: "已超期",
  callback_due: (t) => `应于 ${t} 前回电`,
  callback_take: "接手回电",
  callback_done: "已回电",
  callback_unreachable: "联系不上",
  callback_release: "退回列表",
  callback_note: "回电说明（可选）",
  callback_dial: "拨打此号码",
  callback_failed: "操作没有成功，请稍后再试",

  // today's 预约 of the centre (appointments.js)
  appointments_title: "今日预约",
  appointments_empty: "今天没有预约",
  appointment_counts: (n, booked) => `共 ${n} 个 · 待到 ${booked} 个`,
  appointment_states: { booked: "待到", checked_in: "已签到", no_show: "未到", cancelled: "已取消" },

  // today's sessions
  sessions_title: "今日已办",
  sessions_note: "今天由您接听的来电（服务器记录）",
  sessions_empty: "暂无记录",
  sessions_count: (n) => `共 ${n} 件`,
  ended_reasons: { transferred: "已转办", peer_gone: "居民断线" },
  // how a session left this caseworker without an outcome of theirs (GET /api/v1/me/sessions)
  handoffs: { transfer: "已转办", dropped: "网络中断，已回到队列" },
  // a session without an outcome of its own, by the state the server recorded
  session_states: {
    in_call: "通话中", wrap_up: "已结束", done: "已结束", waiting: "已转出", offered: "已转出",
    requeued: "已转出", cancelled: "居民离开", abandoned: "居民离开",
  },

  // errors by protocol code
  errors: {
    offline: "未连接到服务器",
    timeout: "服务器无应答",
    unavailable: "服务暂不可用，请稍后再试",
    stale_fence: "来电已失效",
    not_holder: "该通话不由您受理",
    wrong_state: "当前状态不允许此操作",
    unknown_ticket: "排队号不存在",
    case_number_required: "受理需要填写受理编号",
    unknown_skill: "没有这个业务",
    invalid_argument: "账号没有所属中心或技能，请联系管理员",
    rate_limited: "操作过于频繁",
  },

  // keyboard hints shown on buttons
  key_accept: "Enter",
  key_reject: "Esc",
  key_end_call: "Ctrl+E",
  key_finish: "Ctrl+Enter",
};

/** A duration in seconds as 分:秒 (or 时:分:秒 past an hour). */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const pad = (n) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

/** The Chinese message for a refused request (ProtocolError / HttpError code). */
export function errorText(error) {
  return T.errors[error?.code] || error?.message || String(error);
}
