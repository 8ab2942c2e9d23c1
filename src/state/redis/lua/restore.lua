-- restore: rewrite an instance's own peer after Redis came back (possibly empty).
-- KEYS[1] room peers  [2] routes  [3] presence  [4] meta  [5] change log (log-change.lua is prepended)
-- ARGV[1] peer  [2] record JSON  [3] conn  [4] presence '1'/'0'  [5] is admin '1'/'0'  [6] now ms  [7] ttl s
--     [8] a fresh token, the room's epoch if this begins the room (see join-function.lua)
-- Reply: 1 when the record was added (it was missing), 0 when it was replaced.
local added = redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
if ARGV[4] == '1' then redis.call('HSET', KEYS[3], ARGV[1], ARGV[3]) else redis.call('HDEL', KEYS[3], ARGV[1]) end
if ARGV[5] == '1' and not redis.call('HGET', KEYS[4], 'admin') then redis.call('HSET', KEYS[4], 'admin', ARGV[1]) end
redis.call('HSETNX', KEYS[4], 'created_at', ARGV[6])
redis.call('HSETNX', KEYS[4], 'epoch', ARGV[8])
redis.call('HSET', KEYS[4], 'last_used', ARGV[6])
logChange(KEYS[5], redis.call('HINCRBY', KEYS[4], 'v', 1), 'r', '', ARGV[1], ARGV[7])
for i = 1, 4 do redis.call('EXPIRE', KEYS[i], ARGV[7]) end
return added
