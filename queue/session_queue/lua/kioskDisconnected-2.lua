-- kioskDisconnected: the kiosk of a waiting (or offered) ticket went away. The ticket keeps its
-- place but is not routed; an open offer is withdrawn. After the grace period the timer
-- abandons it. No effect in other states.
-- KEYS[1] epoch marker, KEYS[2] ticket hash
-- ARGV[1..2] prefix, now; ARGV[3] ticket id
-- Returns: result JSON; errors needs_rebuild, unknown_ticket
--- @include "common"
--- @include "tickets"
--- @include "caseworkers"
--- @include "routing"

if redis.call('EXISTS', KEYS[1]) == 0 then return fail('needs_rebuild', 'live queue is empty') end
local t = load_ticket(ARGV[3])
if not t then return fail('unknown_ticket', ARGV[3]) end
if t.gone == '1' or (t.state ~= 'waiting' and t.state ~= 'offered') then return finish(nil) end

local c = nil
if t.state == 'offered' then
  c = load_cw(t.cw)
  back_to_waiting(t, false, 'offer_withdrawn', 'kiosk', t.cw, nil)
  set_cw_state(c, 'available', 'offer_withdrawn', 'kiosk', nil, nil, nil)
end
t.gone = '1'
redis.call('HSET', KEYS[2], 'gone', '1', 'gone_at', NOW_S)
route_rem(t)
redis.call('ZADD', key('due_grace'), NOW + CFG.grace, t.id)
note_ticket(t, 'kiosk_disconnected', 'kiosk', {grace_until = NOW + CFG.grace})
if c then match_cw(c) end
return finish(nil)
