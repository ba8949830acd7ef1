-- Caseworker state, availability indexes and counters. Requires common.
local function ckey(id) return key('caseworker', id) end
local function load_cw(id)
  local c = hgetall(ckey(id))
  if c then c.id = id end
  return c
end

local function avail_add(c)
  for _, s in ipairs(split(c.skills)) do
    redis.call('ZADD', key('avail', s), NOW, c.id)
    redis.call('ZADD', key('avail_street', s, c.street), NOW, c.id)
  end
end

local function avail_rem(c)
  for _, s in ipairs(split(c.skills)) do
    redis.call('ZREM', key('avail', s), c.id)
    redis.call('ZREM', key('avail_street', s, c.street), c.id)
  end
end

local function eligible_add(c, delta)
  for _, s in ipairs(split(c.skills)) do
    redis.call('HINCRBY', key('eligible'), s, delta)
    redis.call('SADD', key('skills'), s)
  end
end

-- Move a caseworker to `to` (holding ticket_id or nothing), keeping every index in step.
local function set_cw_state(c, to, kind, actor, ticket_id, reason, extra)
  local from = c.state
  local held = c.ticket
  if from == 'available' then avail_rem(c) end
  if from == 'offline' and to ~= 'offline' then eligible_add(c, 1) end
  if to == 'offline' and from ~= 'offline' then eligible_add(c, -1) end
  if from then redis.call('HINCRBY', key('caseworker_states'), from, -1) end
  redis.call('HINCRBY', key('caseworker_states'), to, 1)
  c.state = to
  c.ticket = ticket_id or ''
  c.reason = reason or ''
  redis.call('HSET', ckey(c.id), 'state', to, 'ticket', c.ticket, 'reason', c.reason, 'since', NOW_S)
  if to == 'available' then avail_add(c) end
  -- only a caseworker in wrap_up has a due_wrap entry (it is added just before entering it)
  if from == 'wrap_up' and to ~= 'wrap_up' then redis.call('ZREM', key('due_wrap'), c.id) end
  local x = extra
  if reason and reason ~= '' then
    x = x or {}
    x.reason = reason
  end
  -- An offer that ends without a call names the ticket it was for (the console takes it away).
  if from == 'offered' and to ~= 'in_call' and held and held ~= '' then
    x = x or {}
    x.offered = held
  end
  emit('caseworker', ticket_id, c.id, from, to, kind, actor, nil, x)
end
