-- update: replace the record of a peer the connection holds.
-- KEYS[1] room peers  [2] routes  [3] meta
-- ARGV[1] peer  [2] conn  [3] record JSON
-- Reply: 1 when replaced, 0 when the connection no longer holds the peer.
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HINCRBY', KEYS[3], 'v', 1)
return 1
