-- update: replace the record of a peer the connection holds.
-- KEYS[1] room peers  [2] routes  [3] meta  [4] change log (log-change.lua is prepended)
-- ARGV[1] peer  [2] conn  [3] record JSON  [4] ttl s
-- Reply: 1 when replaced, 0 when the connection no longer holds the peer.
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
logChange(KEYS[4], redis.call('HINCRBY', KEYS[3], 'v', 1), 'u', '', ARGV[1], ARGV[4])
return 1
