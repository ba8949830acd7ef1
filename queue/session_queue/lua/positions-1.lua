-- positions: place in line and estimated wait of some tickets (read only).
-- Estimate = position * average handle time of the skill (rolling window, or the default)
--            / caseworkers logged in (not offline) with the skill who have not declined this
--            ticket (they are never offered it again); null when there are none.
-- KEYS[1] epoch marker
-- ARGV[1..2] prefix, now; ARGV[3..] ticket ids
-- Returns: JSON {ok, result = {items = {{id, state, position, est_wait_s, eligible, avg_handle_s}}}}
--- @include "common"

local items = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local f = redis.call('HMGET', key('ticket', id), 'state', 'skill')
  local item = {id = id, state = f[1] or cjson.null, position = cjson.null, est_wait_s = cjson.null,
                eligible = cjson.null, avg_handle_s = cjson.null}
  if f[1] == 'waiting' then
    local skill = f[2]
    local rank = redis.call('ZRANK', key('queue', skill), id)
    local n = tonumber(redis.call('HGET', key('eligible'), skill) or '0')
    local cnt = redis.call('LLEN', key('handle', skill))
    local avg = CFG.dh
    if cnt > 0 then avg = tonumber(redis.call('HGET', key('handle_sum'), skill)) / cnt end
    item.position = rank + 1
    item.eligible = n
    item.avg_handle_s = avg
    local serving = n
    for _, cid in ipairs(redis.call('SMEMBERS', key('declined', id))) do
      local c = redis.call('HMGET', key('caseworker', cid), 'state', 'skills')
      if c[1] and c[1] ~= 'offline' and (',' .. (c[2] or '') .. ','):find(',' .. skill .. ',', 1, true) then
        serving = serving - 1
      end
    end
    if serving > 0 then item.est_wait_s = (rank + 1) * avg / serving end
  end
  items[#items + 1] = item
end
return cjson.encode({ok = true, result = {items = items}})
