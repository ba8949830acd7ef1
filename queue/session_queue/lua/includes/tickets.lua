-- Ticket state and the waiting indexes. Requires common.
local LIVE = {waiting = true, offered = true, in_call = true, wrap_up = true}
local TERMINAL = {done = true, cancelled = true, abandoned = true}
local HOLDING = {offered = true, in_call = true, wrap_up = true}

local function tkey(id) return key('ticket', id) end
local function load_ticket(id)
  local t = hgetall(tkey(id))
  if t then t.id = id end
  return t
end

-- Change state, bump the fence and the live-state counters, record the transition.
-- `more` (optional): further field/value pairs for the ticket hash, written in the same HSET.
local function set_ticket_state(t, to, kind, actor, cw, extra, more)
  local from = t.state
  local fence = tonumber(t.fence) + 1
  t.fence = tostring(fence)
  t.state = to
  local fields = {'state', to, 'fence', fence}
  if not HOLDING[to] then
    -- `cw` names the current holder only; records keep who handled the ticket
    t.cw = ''
    fields[5], fields[6] = 'cw', ''
  end
  if more then
    for i = 1, #more do fields[#fields + 1] = more[i] end
  end
  if t.unsaved then  -- a ticket from new_ticket: its first state change writes the hash whole
    for i = 1, #t.unsaved do fields[#fields + 1] = t.unsaved[i] end
    t.unsaved = nil
  end
  redis.call('HSET', tkey(t.id), unpack(fields))
  if LIVE[from] then redis.call('HINCRBY', key('ticket_states'), from, -1) end
  if LIVE[to] then redis.call('HINCRBY', key('ticket_states'), to, 1) end
  if TERMINAL[to] then
    redis.call('EXPIRE', tkey(t.id), CFG.ttl)
    redis.call('DEL', key('declined', t.id))
    redis.call('ZREM', key('due_widen'), t.id)
  end
  emit('ticket', t.id, cw, from, to, kind, actor, fence, extra)
end

-- A record for an event that is not a state change (kiosk gone/back): same fence.
local function note_ticket(t, kind, actor, extra)
  emit('ticket', t.id, nil, t.state, t.state, kind, actor, tonumber(t.fence), extra)
end

local function route_add(t)
  redis.call('ZADD', key('route', t.skill, t.street), t.score, t.id)
  if t.wid == '1' then redis.call('ZADD', key('route_wide', t.skill), t.score, t.id) end
end

local function route_rem(t)
  redis.call('ZREM', key('route', t.skill, t.street), t.id)
  redis.call('ZREM', key('route_wide', t.skill), t.id)
end

-- Put a waiting ticket into the indexes at t.score (kiosk-gone tickets keep their place in
-- the position index but are not routable until the kiosk is back).
local function enter_queue(t)
  redis.call('ZADD', key('queue', t.skill), t.score, t.id)
  redis.call('ZADD', key('created', t.skill), t.created, t.id)
  redis.call('HINCRBY', key('street_waiting'), t.street, 1)
  if t.gone ~= '1' then route_add(t) end
  moved(t.skill)
end

local function leave_queue(t)
  redis.call('ZREM', key('queue', t.skill), t.id)
  redis.call('ZREM', key('created', t.skill), t.id)
  redis.call('HINCRBY', key('street_waiting'), t.street, -1)
  route_rem(t)
  moved(t.skill)
end

-- A score ahead of everyone now waiting for the ticket's skill (and never behind its own).
local function front_score(t)
  local head = redis.call('ZRANGE', key('queue', t.skill), 0, 0, 'WITHSCORES')
  local s = tonumber(t.score)
  if head[2] and tonumber(head[2]) < s then s = tonumber(head[2]) end
  return int_s(s - 1000)
end

-- Ticket back to waiting: at its kept place, or at the front (caseworker dropped, transfer).
local function back_to_waiting(t, front, kind, actor, cw, extra)
  if front then
    set_ticket_state(t, 'requeued', kind, actor, cw, extra)
    t.score = front_score(t)
    kind = 'requeue'
  end
  redis.call('ZREM', key('due_offer'), t.id)
  -- the HSET of the state change also clears `cw` (waiting is not a holding state)
  set_ticket_state(t, 'waiting', kind, actor, cw, extra, {'score', t.score, 'skill', t.skill})
  enter_queue(t)
end

local function check_fence(t, fence)
  if t.fence ~= fence then
    return 'stale_fence', 'fence ' .. fence .. ' is not the current fence ' .. t.fence
  end
  return nil
end

-- A new ticket (not yet indexed, no state). base_ms = round(created*1000) minus the priority
-- head start in ms; a global sequence breaks ties inside one millisecond (FIFO). The hash is
-- written by the caller's first set_ticket_state, in the same HSET as the state (one call less).
local function new_ticket(id, kiosk, street, matter, skill, prio, created, base_ms, fence)
  local seq = redis.call('INCR', key('seq'))
  local t = {
    id = id, kiosk = kiosk, street = street, matter = matter, skill = skill, prio = prio,
    created = created, score = int_s(tonumber(base_ms) * 1000 + seq % 1000),
    fence = tostring(fence), cw = '', wid = '0', gone = '0',
  }
  if tonumber(created) + CFG.widen <= NOW then
    t.wid = '1'
  else
    redis.call('ZADD', key('due_widen'), tonumber(created) + CFG.widen, id)
  end
  t.unsaved = {'kiosk', kiosk, 'street', street, 'matter', matter, 'skill', skill, 'prio', prio,
    'created', created, 'score', t.score, 'wid', t.wid, 'gone', '0'}
  redis.call('SADD', key('skills'), skill)
  return t
end
