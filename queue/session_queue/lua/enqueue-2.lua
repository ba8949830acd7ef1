-- enqueue: a resident joins the queue; the ticket is offered at once if a caseworker is free.
-- KEYS[1] epoch marker, KEYS[2] ticket hash
-- ARGV[1..2] prefix, now (see includes/common.lua)
-- ARGV[3] ticket id, [4] kiosk id, [5] street id, [6] matter id, [7] skill, [8] priority class,
-- ARGV[9] created (seconds), [10] base score in ms: round(created*1000) - weight*1000
-- Returns: result JSON {ok, transitions, moved, result = {fence}} or {ok=false, code, message}
--- @include "common"
--- @include "tickets"
--- @include "caseworkers"
--- @include "routing"

if redis.call('EXISTS', KEYS[1]) == 0 then return fail('needs_rebuild', 'live queue is empty') end
if redis.call('EXISTS', KEYS[2]) == 1 then return fail('duplicate_ticket', 'ticket ' .. ARGV[3] .. ' exists') end

local t = new_ticket(ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], 0)
t.state = nil
set_ticket_state(t, 'waiting', 'enqueue', 'kiosk', nil, {kiosk_id = t.kiosk, priority = t.prio})
-- a free caseworker takes it at once: offer without entering (and leaving) the waiting
-- indexes; the result and records are the same as enter_queue followed by match_ticket
local cid = eligible_cw(t)
if cid then
  offer(t, load_cw(cid), false)
else
  enter_queue(t)
end
return finish({fence = tonumber(t.fence)})
