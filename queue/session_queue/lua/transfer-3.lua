-- transfer (转办): the caseworker in a call hands the ticket to another skill; it goes to the
-- front of that skill's queue (in_call -> requeued -> waiting) and the caseworker to wrap-up.
-- KEYS[1] epoch marker, KEYS[2] ticket hash, KEYS[3] caseworker hash
-- ARGV[1..2] prefix, now; ARGV[3] caseworker id, [4] ticket id, [5] fence of the call,
-- ARGV[6] new skill
-- Returns: result JSON; errors as accept
--- @include "common"
--- @include "tickets"
--- @include "caseworkers"
--- @include "routing"

if redis.call('EXISTS', KEYS[1]) == 0 then return fail('needs_rebuild', 'live queue is empty') end
local t, c, err = check_holder(ARGV[4], ARGV[3], ARGV[5], 'in_call')
if err then return err end
local extra = {from_skill = t.skill, to_skill = ARGV[6]}
t.skill = ARGV[6]
redis.call('SADD', key('skills'), t.skill)
redis.call('DEL', key('declined', t.id))
back_to_waiting(t, true, 'transfer', 'caseworker', c.id, extra)
start_wrap_up(c, nil, 'transfer')
match_ticket(t)
match_cw(c)
return finish(nil)
