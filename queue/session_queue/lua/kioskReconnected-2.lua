-- kioskReconnected: the kiosk is back within the grace period; the ticket is routable again
-- at its kept place (and offered at once if a caseworker is free).
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
if t.gone ~= '1' then return finish(nil) end
t.gone = '0'
redis.call('HSET', KEYS[2], 'gone', '0', 'gone_at', '')
redis.call('ZREM', key('due_grace'), t.id)
note_ticket(t, 'kiosk_reconnected', 'kiosk', nil)
if t.state == 'waiting' then
  route_add(t)
  match_ticket(t)
end
return finish(nil)
