-- rebuild: refill an empty live queue from the database's open sessions, once: the first
-- caller sets the epoch marker, later callers (other processes) change nothing.
--   waiting / offered / requeued -> waiting, in the given (original) order
--   in_call                      -> requeued -> waiting at the FRONT (the call's caseworker
--                                   state was lost with Redis; they accept it again)
--   wrap_up                      -> done (the call had ended)
-- Fences continue from the database's last fence, so old messages stay stale.
-- KEYS[1] epoch marker
-- ARGV[1..2] prefix, now; ARGV[3] epoch id, ARGV[4] JSON list of records
--   {id, kiosk, street, matter, skill, prio, created, base, state, fence}, back-of-queue
--   records sorted by queue order, front records last (oldest last)
-- Returns: result JSON {result = {rebuilt, count}}
--- @include "common"
--- @include "tickets"
--- @include "caseworkers"
--- @include "routing"

if redis.call('EXISTS', KEYS[1]) == 1 then return finish({rebuilt = false, count = 0}) end
redis.call('SET', KEYS[1], ARGV[3])
local count = 0
for _, r in ipairs(cjson.decode(ARGV[4])) do
  local t = new_ticket(r.id, r.kiosk, r.street, r.matter, r.skill, r.prio, r.created, r.base, r.fence)
  -- the record's own state is the transition's from_state; count it so the move out balances
  t.state = r.state
  if LIVE[r.state] then redis.call('HINCRBY', key('ticket_states'), r.state, 1) end
  if r.state == 'wrap_up' then
    set_ticket_state(t, 'done', 'rebuild', 'rebuild', nil, nil)
  else
    back_to_waiting(t, r.state == 'in_call', 'rebuild', 'rebuild', nil, nil)
  end
  count = count + 1
end
return finish({rebuilt = true, count = count})
