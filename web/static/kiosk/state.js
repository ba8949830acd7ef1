// What the kiosk knows about the current resident. Kept in one object so the idle timeout and
// "回首页" can forget everything at once (privacy: the next resident sees nothing of this one).

export const state = {
  kiosk: null, // {id, site, street} from welcome
  mode: "handle", // "handle" 办事 or "consult" 咨询
  matter: null, // the matter picked (full record from the API)
  ticket: null, // the open ticket (TicketView) or null
  call: null, // the live call (CallView) or null
  iceTransportPolicy: "all", // from welcome: "relay" when this kiosk must send media through TURN
  rateSessionId: null, // the ended session awaiting a rating
  consent: null, // the answer to the notice ({version, choice}), sent with the join
};

/** Forget the resident: everything but the kiosk itself. */
export function resetResident() {
  state.mode = "handle";
  state.matter = null;
  state.ticket = null;
  state.call = null;
  state.rateSessionId = null;
  state.consent = null;
}
