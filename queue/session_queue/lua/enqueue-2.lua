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

-- the sequence breaks ties between tickets created in the same millisecond (FIFO)
local seq = redis.call('INCR', key('seq'))
local t = {
  id = ARGV[4], kiosk = ARGV[5], street = ARGV[6], matter = ARGV[7], skill = ARGV[8],
  prio = ARGV[9], created = ARGV[10], score = int_s(tonumber(ARGV[11]) * 1000 + seq % 1000),
  fence = '0', cw = '', wid = '0', gone = '0',
}
if CFG.widen <= 0 then t.wid = '1' end
redis.call('HSET', KEYS[2], 'kiosk', t.kiosk, 'street', t.street, 'matter', t.matter,
  'skill', t.skill, 'prio', t.prio, 'created', t.created, 'score', t.score, 'fence', t.fence,
  'cw', '', 'wid', t.wid, 'gone', '0', 'state', 'new')
redis.call('SADD', key('skills'), t.skill)
if t.wid == '0' then redis.call('ZADD', key('due_widen'), tonumber(t.created) + CFG.widen, t.id) end
t.state = nil
set_ticket_state(t, 'waiting', 'enqueue', 'kiosk', nil, {kiosk_id = t.kiosk, priority = t.prio})
enter_queue(t)
match_ticket(t)
return finish({fence = tonumber(t.fence)})
