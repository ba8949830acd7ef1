-- tick: the timer. Expires offers (caseworker -> break 'missed_offer', ticket keeps its place),
-- abandons tickets whose kiosk stayed away past the grace period, ends wrap-ups and widens
-- routing to every centre. Idempotent: each due entry is removed and its ticket or caseworker
-- re-checked, so any number of processes may tick at once.
-- KEYS[1] epoch marker
-- ARGV[1..2] prefix, now; ARGV[3] max entries per due set in this call
-- Returns: result JSON {result = {more}}: more = a due set still has entries that are due
--- @include "common"
--- @include "tickets"
--- @include "caseworkers"
--- @include "routing"

if redis.call('EXISTS', KEYS[1]) == 0 then return fail('needs_rebuild', 'live queue is empty') end
local limit = tonumber(ARGV[3])
local more = false

local function due(part)
  local ids = redis.call('ZRANGEBYSCORE', key(part), '-inf', NOW, 'LIMIT', 0, limit)
  if #ids == limit then more = true end
  for _, id in ipairs(ids) do redis.call('ZREM', key(part), id) end
  return ids
end

for _, id in ipairs(due('due_offer')) do
  local t = load_ticket(id)
  if t and t.state == 'offered' and tonumber(t.deadline) <= NOW then
    local c = load_cw(t.cw)
    back_to_waiting(t, false, 'offer_timeout', 'timer', c.id, nil)
    set_cw_state(c, 'break', 'offer_timeout', 'timer', nil, 'missed_offer', nil)
    match_ticket(t)
  end
end

for _, id in ipairs(due('due_grace')) do
  local t = load_ticket(id)
  if t and t.state == 'waiting' and t.gone == '1' and tonumber(t.gone_at) + CFG.grace <= NOW then
    leave_queue(t)
    set_ticket_state(t, 'abandoned', 'grace_expired', 'timer', nil, nil)
  end
end

for _, id in ipairs(due('due_widen')) do
  local t = load_ticket(id)
  if t and LIVE[t.state] and t.wid ~= '1' then
    t.wid = '1'
    redis.call('HSET', tkey(id), 'wid', '1')
    note_ticket(t, 'widened', 'timer', nil)
    if t.state == 'waiting' and t.gone ~= '1' then
      redis.call('ZADD', key('route_wide', t.skill), t.score, t.id)
      match_ticket(t)
    end
  end
end

for _, id in ipairs(due('due_wrap')) do
  local c = load_cw(id)
  if c and c.state == 'wrap_up' then
    local t = c.ticket ~= '' and load_ticket(c.ticket) or nil
    if t and t.state == 'wrap_up' and t.cw == c.id then
      set_ticket_state(t, 'done', 'wrap_up_end', 'timer', c.id, nil)
    end
    set_cw_state(c, 'available', 'wrap_up_timeout', 'timer', nil, nil, nil)
    match_cw(c)
  end
end

return finish({more = more})
