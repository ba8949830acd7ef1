-- Offers and matching. Requires common, tickets, caseworkers.
--
-- Invariant kept by every script: no available caseworker has a routable waiting ticket they
-- could take (other than ones they declined). So a ticket that becomes routable only needs
-- the best available caseworker, and a caseworker who becomes available only the best ticket.

-- `queued` false: the ticket never entered the waiting indexes (enqueue's direct offer).
local function offer(t, c, queued)
  if queued == false then moved(t.skill) else leave_queue(t) end
  local deadline = NOW + CFG.offer
  t.cw = c.id
  set_ticket_state(t, 'offered', 'offer', 'router', c.id, nil, {'cw', c.id, 'deadline', deadline})
  redis.call('ZADD', key('due_offer'), deadline, t.id)
  set_cw_state(c, 'offered', 'offer', 'router', t.id, nil, {fence = tonumber(t.fence)})
end

-- First member among the `scan` lowest scores of zset `z` that `skip` does not reject. The head
-- alone is read first (the usual answer); the rest of the scan only when the head is skipped.
local function first_eligible(z, skip)
  local head = redis.call('ZRANGE', z, 0, 0, 'WITHSCORES')
  if head[1] == nil then return nil, nil end
  if not skip(head[1]) then return head[1], tonumber(head[2]) end
  if CFG.scan < 2 then return nil, nil end
  local items = redis.call('ZRANGE', z, 1, CFG.scan - 1, 'WITHSCORES')
  for i = 1, #items, 2 do
    if not skip(items[i]) then return items[i], tonumber(items[i + 1]) end
  end
  return nil, nil
end

-- The longest-idle available caseworker who may take routable ticket t: own street first, any
-- centre once the ticket is widened; nil if none.
local function eligible_cw(t)
  local dec = key('declined', t.id)
  local skip = function(cid) return redis.call('SISMEMBER', dec, cid) == 1 end
  local cid = first_eligible(key('avail_street', t.skill, t.street), skip)
  if not cid and t.wid == '1' then cid = first_eligible(key('avail', t.skill), skip) end
  return cid
end

-- Offer a waiting ticket to the longest-idle eligible caseworker.
local function match_ticket(t)
  if t.state ~= 'waiting' or t.gone == '1' then return false end
  local cid = eligible_cw(t)
  if not cid then return false end
  offer(t, load_cw(cid))
  return true
end

-- Offer an available caseworker the best ticket across their skills: own-street tickets and
-- widened tickets of every street, lowest queue score first.
local function match_cw(c)
  if c.state ~= 'available' then return false end
  local skip = function(tid) return redis.call('SISMEMBER', key('declined', tid), c.id) == 1 end
  local best, best_score
  for _, s in ipairs(split(c.skills)) do
    for _, z in ipairs({key('route', s, c.street), key('route_wide', s)}) do
      local tid, score = first_eligible(z, skip)
      if tid and (best == nil or score < best_score) then best, best_score = tid, score end
    end
  end
  if not best then return false end
  offer(load_ticket(best), c)
  return true
end

-- Caseworker leaves whatever ticket they hold: an offer or a call goes back to the front of
-- its queue (requeued -> waiting), a wrap-up completes the ticket.
local function release_ticket(c, kind, actor)
  if c.ticket == nil or c.ticket == '' then return nil end
  local t = load_ticket(c.ticket)
  if not t or t.cw ~= c.id then return nil end
  if t.state == 'offered' or t.state == 'in_call' then
    back_to_waiting(t, true, kind, actor, c.id, nil)
    return t
  elseif t.state == 'wrap_up' then
    set_ticket_state(t, 'done', 'wrap_up_end', actor, c.id, nil)
  end
  return nil
end

-- Validate a caseworker's message about a ticket. Order matters: a stale fence is reported
-- before anything else, so a late message from an old holder is always `stale_fence`.
local function check_holder(tid, cid, fence, want)
  local t = load_ticket(tid)
  if not t then return nil, nil, fail('unknown_ticket', tid) end
  local c = load_cw(cid)
  if not c then return nil, nil, fail('unknown_caseworker', cid) end
  if t.fence ~= fence then
    return nil, nil, fail('stale_fence', 'fence ' .. fence .. ' is not the current fence ' .. t.fence)
  end
  if t.cw ~= cid or c.ticket ~= tid then return nil, nil, fail('not_holder', cid .. ' does not hold ' .. tid) end
  if t.state ~= want then return nil, nil, fail('wrong_state', 'ticket is ' .. t.state) end
  return t, c, nil
end

-- After a call or transfer: wrap-up for CFG.wrap seconds, or straight back to available.
local function start_wrap_up(c, t, kind)
  if CFG.wrap > 0 then
    redis.call('ZADD', key('due_wrap'), NOW + CFG.wrap, c.id)
    set_cw_state(c, 'wrap_up', kind, 'caseworker', t and t.id or nil, nil, {until_ts = NOW + CFG.wrap})
  else
    set_cw_state(c, 'available', kind, 'caseworker', nil, nil, nil)
  end
end
