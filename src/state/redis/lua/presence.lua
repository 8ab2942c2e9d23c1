-- presence: publish a presence envelope once to every instance with subscribers in the room
-- (server-of.lua is prepended).
-- KEYS[1] the room's presence hash
-- ARGV[1] channel prefix  [2] envelope  [3] server to skip ('' = none)
-- Reply: the number of receivers.
local seen = {}
local n = 0
for _, c in ipairs(redis.call('HVALS', KEYS[1])) do
  local s = srv(c)
  if not seen[s] and s ~= ARGV[3] then
    seen[s] = true
    n = n + redis.call('PUBLISH', ARGV[1] .. s .. '}', ARGV[2])
  end
end
return n
