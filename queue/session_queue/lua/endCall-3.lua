-- endCall: the caseworker ends the call; the handle time feeds the rolling windows that the
-- wait estimate uses; then wrap-up (ticket wrap_up) or, with wrap_up_s = 0, done at once.
-- KEYS[1] epoch marker, KEYS[2] ticket hash, KEYS[3] caseworker hash
-- ARGV[1..2] prefix, now; ARGV[3] caseworker id, [4] ticket id, [5] fence of the call,
-- ARGV[6] measured handle seconds ('' = now - accept time), [7] outcome label ('' = none)
-- Returns: result JSON {result = {handle_s}}; errors as accept
--- @include "common"
--- @include "tickets"
--- @include "caseworkers"
--- @include "routing"

if redis.call('EXISTS', KEYS[1]) == 0 then return fail('needs_rebuild', 'live queue is empty') end
local t, c, err = check_holder(ARGV[4], ARGV[3], ARGV[5], 'in_call')
if err then return err end

local handle = tonumber(ARGV[6])
if not handle then handle = NOW - (tonumber(t.accepted) or NOW) end
if handle < 0 then handle = 0 end

-- rolling window: newest first, trimmed to CFG.hw, with its running sum beside it; the sum
-- moves by (new - dropped) in one HINCRBYFLOAT, the dearest call of this script
local function push_window(list_key, sum_key, field)
  local delta = handle
  if redis.call('LPUSH', list_key, handle) > CFG.hw then
    delta = handle - tonumber(redis.call('RPOP', list_key))
  end
  redis.call('HINCRBYFLOAT', sum_key, field, delta)
end
push_window(key('handle', t.skill), key('handle_sum'), t.skill)
push_window(key('matter_handle', t.matter), key('matter_handle_sum'), t.matter)

local extra = {handle_s = handle}
if ARGV[7] ~= '' then extra.outcome = ARGV[7] end
if CFG.wrap > 0 then
  set_ticket_state(t, 'wrap_up', 'end_call', 'caseworker', c.id, extra)
  start_wrap_up(c, t, 'end_call')
else
  set_ticket_state(t, 'done', 'end_call', 'caseworker', c.id, extra)
  start_wrap_up(c, nil, 'end_call')
  match_cw(c)
end
return finish({handle_s = handle})
