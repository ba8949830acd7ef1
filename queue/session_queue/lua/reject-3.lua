-- reject: the caseworker declines an offer. The ticket keeps its place and goes to the next
-- eligible caseworker; the rejecting caseworker stays available but is never offered this
-- ticket again (it is added to the ticket's declined set).
-- KEYS[1] epoch marker, KEYS[2] ticket hash, KEYS[3] caseworker hash
-- ARGV[1..2] prefix, now; ARGV[3] caseworker id, [4] ticket id, [5] fence of the offer
-- Returns: result JSON; errors as accept
--- @include "common"
--- @include "tickets"
--- @include "caseworkers"
--- @include "routing"

if redis.call('EXISTS', KEYS[1]) == 0 then return fail('needs_rebuild', 'live queue is empty') end
local t, c, err = check_holder(ARGV[4], ARGV[3], ARGV[5], 'offered')
if err then return err end
redis.call('SADD', key('declined', t.id), c.id)
back_to_waiting(t, false, 'reject', 'caseworker', c.id, nil)
set_cw_state(c, 'available', 'reject', 'caseworker', nil, nil, nil)
match_ticket(t)
match_cw(c)
return finish(nil)
