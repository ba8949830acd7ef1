-- caseworkerLogin: a caseworker signs in (or again, with a new street or skills) and becomes
-- available (offered the best ticket at once) or starts on a break.
-- KEYS[1] epoch marker, KEYS[2] caseworker hash
-- ARGV[1..2] prefix, now; ARGV[3] caseworker id, [4] home street id,
-- ARGV[5] skills joined by ',', [6] '1' to become available, '0' for a break (reason 'login')
-- Returns: result JSON; errors needs_rebuild, wrong_state (holding an offer, call or wrap-up)
--- @include "common"
--- @include "tickets"
--- @include "caseworkers"
--- @include "routing"

if redis.call('EXISTS', KEYS[1]) == 0 then return fail('needs_rebuild', 'live queue is empty') end
local c = load_cw(ARGV[3])
if c then
  if c.state == 'offered' or c.state == 'in_call' or c.state == 'wrap_up' then
    return fail('wrong_state', 'caseworker is ' .. c.state)
  end
  -- leave the old profile's indexes before the street or skills change
  if c.state ~= 'offline' then set_cw_state(c, 'offline', 'relogin', 'caseworker', nil, nil, nil) end
else
  c = {id = ARGV[3], state = 'offline'}
  redis.call('HINCRBY', key('caseworker_states'), 'offline', 1)
end
c.street = ARGV[4]
c.skills = ARGV[5]
redis.call('HSET', KEYS[2], 'street', c.street, 'skills', c.skills, 'state', 'offline')
if ARGV[6] == '1' then
  set_cw_state(c, 'available', 'login', 'caseworker', nil, nil, {street_id = c.street})
  match_cw(c)
else
  set_cw_state(c, 'break', 'login', 'caseworker', nil, 'login', {street_id = c.street})
end
return finish(nil)
