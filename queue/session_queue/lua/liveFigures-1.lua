-- liveFigures: supervisor numbers in O(skills + streets), from maintained counters and the
-- head of each skill's created-time index; never a scan of waiting tickets.
-- KEYS[1] epoch marker
-- ARGV[1..2] prefix, now
-- Returns: JSON {ok, result = {waiting_by_skill, oldest_by_skill (created, as string),
--   waiting_by_street, caseworkers_by_state, tickets_by_state, eligible_by_skill}}
--- @include "common"

local function hash_pairs(k)
  local raw = redis.call('HGETALL', k)
  local out = {}
  for i = 1, #raw, 2 do out[#out + 1] = {raw[i], tonumber(raw[i + 1])} end
  return out
end

local waiting, oldest = {}, {}
for _, s in ipairs(redis.call('SMEMBERS', key('skills'))) do
  waiting[#waiting + 1] = {s, redis.call('ZCARD', key('created', s))}
  local head = redis.call('ZRANGE', key('created', s), 0, 0, 'WITHSCORES')
  if head[2] then oldest[#oldest + 1] = {s, head[2]} end
end
return cjson.encode({ok = true, result = {
  waiting_by_skill = waiting, oldest_by_skill = oldest,
  waiting_by_street = hash_pairs(key('street_waiting')),
  caseworkers_by_state = hash_pairs(key('caseworker_states')),
  tickets_by_state = hash_pairs(key('ticket_states')),
  eligible_by_skill = hash_pairs(key('eligible')),
}})
