-- cancel: the resident leaves the queue (waiting or offered; a call must be ended instead).
-- KEYS[1] epoch marker, KEYS[2] ticket hash
-- ARGV[1..2] prefix, now; ARGV[3] ticket id; ARGV[4] reason ('' = the resident left; else the
--   server ended it, e.g. centre_closed, and the record carries the reason with actor 'system')
-- Returns: result JSON; errors needs_rebuild, unknown_ticket, wrong_state
--- @include "common"
--- @include "tickets"
--- @include "caseworkers"
--- @include "routing"

if redis.call('EXISTS', KEYS[1]) == 0 then return fail('needs_rebuild', 'live queue is empty') end
local t = load_ticket(ARGV[3])
if not t then return fail('unknown_ticket', ARGV[3]) end
local reason = ARGV[4] or ''
local actor, extra = 'kiosk', nil
if reason ~= '' then actor, extra = 'system', {reason = reason} end
if t.state == 'waiting' then
  leave_queue(t)
  redis.call('ZREM', key('due_grace'), t.id)
  set_ticket_state(t, 'cancelled', 'cancel', actor, nil, extra)
elseif t.state == 'offered' then
  local c = load_cw(t.cw)
  redis.call('ZREM', key('due_offer'), t.id)
  set_ticket_state(t, 'cancelled', 'cancel', actor, t.cw, extra)
  set_cw_state(c, 'available', 'offer_withdrawn', actor, nil, nil, nil)
  match_cw(c)
else
  return fail('wrong_state', 'cannot cancel a ticket in state ' .. t.state)
end
return finish(nil)
