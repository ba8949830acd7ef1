-- accept: the caseworker holding an offer takes the call.
-- KEYS[1] epoch marker, KEYS[2] ticket hash, KEYS[3] caseworker hash
-- ARGV[1..3] prefix, now, config; ARGV[4] caseworker id, [5] ticket id, [6] fence of the offer
-- Returns: result JSON {result = {fence}}; errors needs_rebuild, unknown_ticket,
-- unknown_caseworker, stale_fence, not_holder, wrong_state
--- @include "common"
--- @include "tickets"
--- @include "caseworkers"
--- @include "routing"

if redis.call('EXISTS', KEYS[1]) == 0 then return fail('needs_rebuild', 'live queue is empty') end
local t, c, err = check_holder(ARGV[5], ARGV[4], ARGV[6], 'offered')
if err then return err end
redis.call('ZREM', key('due_offer'), t.id)
redis.call('HSET', KEYS[2], 'accepted', NOW_S)
set_ticket_state(t, 'in_call', 'accept', 'caseworker', c.id, nil)
set_cw_state(c, 'in_call', 'accept', 'caseworker', t.id, nil, nil)
return finish({fence = tonumber(t.fence)})
