-- Shared prelude of every script (inlined by the loader at "--- @include").
-- ARGV[1] key prefix, ARGV[2] now (float seconds, the engine's clock).
-- Scripts read their own arguments from ARGV[3] on.
-- The loader (scripts.py) replaces the line "--- @constants" with two table literals, so no
-- call sends or decodes them (one script text, and SHA, per configuration):
--   K   = key parts from keys.KEY_PARTS (part name -> suffix after the prefix)
--   CFG = {offer, grace, wrap, widen (seconds), hw (handle window), dh (default handle
--          seconds), scan (routing scan depth), ttl (seconds a finished ticket stays readable),
--          outbox (approximate cap on outbox entries)}
--- @constants
local P = ARGV[1]
local NOW_S = ARGV[2]
local NOW = tonumber(NOW_S)

local TR = {}          -- transition records produced by this call, in order
local MOVED_LIST = {}  -- skills whose waiting order changed
local MOVED = {}

-- key(part [, a [, b]]) mirrors keys.Keys.name: prefix .. part .. a .. ':' .. b
local function key(part, a, b)
  local s = P .. K[part]
  if a then s = s .. a end
  if b then s = s .. ':' .. b end
  return s
end

local function moved(skill)
  if not MOVED[skill] then
    MOVED[skill] = true
    MOVED_LIST[#MOVED_LIST + 1] = skill
  end
end

local function hgetall(k)
  local raw = redis.call('HGETALL', k)
  if #raw == 0 then return nil end
  local h = {}
  for i = 1, #raw, 2 do h[raw[i]] = raw[i + 1] end
  return h
end

local function split(s)
  local out = {}
  for part in string.gmatch(s or '', '[^,]+') do out[#out + 1] = part end
  return out
end

-- Scores are integers beyond 1e14: format them ourselves, never through tostring (%.14g).
local function int_s(n) return string.format('%.0f', n) end

local function emit(entity, tid, cw, from, to, kind, actor, fence, extra)
  TR[#TR + 1] = {
    entity = entity, ticket_id = tid or cjson.null, caseworker_id = cw or cjson.null,
    from_state = from or cjson.null, to_state = to, kind = kind, actor = actor,
    fence = fence or cjson.null, ts = NOW_S, extra = extra or cjson.null,
  }
end

-- Every result (and every published message) has one shape; see docs/queue.md.
local function finish(result)
  local out = cjson.encode({ok = true, transitions = TR, moved = MOVED_LIST,
                            result = result or cjson.null})
  if #TR > 0 or #MOVED_LIST > 0 then redis.call('PUBLISH', key('channel'), out) end
  -- The outbox keeps every transition until the database has it: a process killed between
  -- this script and its database write leaves the entry for the reconciler (outbox.py).
  if #TR > 0 then
    redis.call('XADD', key('outbox'), 'MAXLEN', '~', CFG.outbox, '*', 'd', out)
  end
  return out
end

local function fail(code, message)
  return cjson.encode({ok = false, code = code, message = message})
end

local function epoch_missing()
  return redis.call('EXISTS', key('epoch')) == 0
end
