-- ping: a no-op, the floor of one EVALSHA round trip (benchmark baseline, health probe).
-- KEYS: none
-- ARGV: none
-- Returns: 1
return 1
