-- enqueue: a resident joins the queue; the ticket is offered at once if a caseworker is free.
-- KEYS[1] epoch marker, KEYS[2] ticket hash
-- ARGV[1..3] prefix, now, config (see includes/common.lua)
-- ARGV[4] ticket id, [5] kiosk id, [6] street id, [7] matter id, [8] skill, [9] priority class,
-- ARGV[10] created (seconds), [11] base score in ms: round(created*1000) - weight*1000
-- Returns: result JSON {ok, transitions, moved, result = {fence}} or {ok=false, code, message}
--- @include "common"
--- @include "tickets"
--- @include "caseworkers"
--- @include "routing"

if redis.call('EXISTS', KEYS[1]) == 0 then return fail('needs_rebuild', 'live queue is empty') end
if redis.call('EXISTS', KEYS[2]) == 1 then return fail('duplicate_ticket', 'ticket ' .. ARGV[4] .. ' exists') end

local t = new_ticket(ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11], 0)
t.state = nil
set_ticket_state(t, 'waiting', 'enqueue', 'kiosk', nil, {kiosk_id = t.kiosk, priority = t.prio})
enter_queue(t)
match_ticket(t)
return finish({fence = tonumber(t.fence)})
