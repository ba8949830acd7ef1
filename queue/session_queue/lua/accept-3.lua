-- accept: the caseworker holding an offer takes the call.
-- KEYS[1] epoch marker, KEYS[2] ticket hash, KEYS[3] caseworker hash
-- ARGV[1..2] prefix, now; ARGV[3] caseworker id, [4] ticket id, [5] fence of the offer
-- Returns: result JSON {result = {fence}}; errors needs_rebuild, unknown_ticket,
-- unknown_caseworker, stale_fence, not_holder, wrong_state
--- @include "common"
--- @include "tickets"
--- @include "caseworkers"
--- @include "routing"

if redis.call('EXISTS', KEYS[1]) == 0 then return fail('needs_rebuild', 'live queue is empty') end
local t, c, err = check_holder(ARGV[4], ARGV[3], ARGV[5], 'offered')
if err then return err end
redis.call('ZREM', key('due_offer'), t.id)
set_ticket_state(t, 'in_call', 'accept', 'caseworker', c.id, nil, {'accepted', NOW_S})
set_cw_state(c, 'in_call', 'accept', 'caseworker', t.id, nil, nil)
return finish({fence = tonumber(t.fence)})
