-- leave: remove a peer from a room if the connection still holds it.
-- KEYS[1] room peers  [2] routes  [3] presence  [4] meta  [5] change log (log-change.lua is prepended)
-- ARGV[1] peer  [2] conn  [3] now ms  [4] ttl s
-- Reply: the removed record JSON, or nil.
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return false end
local rec = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('HGET', KEYS[4], 'admin') == ARGV[1] then redis.call('HDEL', KEYS[4], 'admin') end
redis.call('HSET', KEYS[4], 'last_used', ARGV[3])
logChange(KEYS[5], redis.call('HINCRBY', KEYS[4], 'v', 1), 'l', '', ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[4], ARGV[4])
return rec
