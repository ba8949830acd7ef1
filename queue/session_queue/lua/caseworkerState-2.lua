-- caseworkerState: a caseworker changes their own state.
--   available       from break/offline/available (and from wrap_up: ends it early)
--   finish_wrap_up  from wrap_up only: the ticket is done, the caseworker available
--   break           from available/break/offline/wrap_up; an open offer goes back keeping its place
--   offline         from any state; an offer or call goes back to the FRONT (requeued -> waiting)
--   disconnected    as offline, recorded as a drop
-- KEYS[1] epoch marker, KEYS[2] caseworker hash
-- ARGV[1..2] prefix, now; ARGV[3] caseworker id, [4] operation, [5] break reason
-- Returns: result JSON; errors needs_rebuild, unknown_caseworker, wrong_state
--- @include "common"
--- @include "tickets"
--- @include "caseworkers"
--- @include "routing"

if redis.call('EXISTS', KEYS[1]) == 0 then return fail('needs_rebuild', 'live queue is empty') end
local c = load_cw(ARGV[3])
if not c then return fail('unknown_caseworker', ARGV[3]) end
local op = ARGV[4]
local st = c.state

local function end_wrap_up()
  local t = c.ticket ~= '' and load_ticket(c.ticket) or nil
  if t and t.state == 'wrap_up' and t.cw == c.id then
    set_ticket_state(t, 'done', 'wrap_up_end', 'caseworker', c.id, nil)
  end
end

if op == 'available' or op == 'finish_wrap_up' then
  if op == 'finish_wrap_up' and st ~= 'wrap_up' then return fail('wrong_state', 'caseworker is ' .. st) end
  if st == 'offered' or st == 'in_call' then return fail('wrong_state', 'caseworker is ' .. st) end
  if st == 'wrap_up' then end_wrap_up() end
  if st ~= 'available' then set_cw_state(c, 'available', op, 'caseworker', nil, nil, nil) end
  match_cw(c)
elseif op == 'break' then
  if st == 'in_call' then return fail('wrong_state', 'caseworker is in a call') end
  local t = nil
  if st == 'wrap_up' then end_wrap_up() end
  if st == 'offered' then
    t = load_ticket(c.ticket)
    back_to_waiting(t, false, 'offer_withdrawn', 'caseworker', c.id, nil)
  end
  set_cw_state(c, 'break', 'break', 'caseworker', nil, ARGV[5], nil)
  if t then match_ticket(t) end
elseif op == 'offline' or op == 'disconnected' then
  local kind = op == 'offline' and 'caseworker_offline' or 'caseworker_dropped'
  local t = release_ticket(c, kind, 'caseworker')
  if st ~= 'offline' then set_cw_state(c, 'offline', kind, 'caseworker', nil, nil, nil) end
  if t then match_ticket(t) end
else
  return fail('invalid_argument', 'unknown operation ' .. op)
end
return finish(nil)
