-- register-fresh: a first registration under a peer id nobody holds or owns, in one call: join,
-- then claim's writes, the room index and the instance's peer set (join-function.lua and its
-- pieces are prepended).
-- Its keys span slots, so it runs on a standalone Redis only; 'HELD' sends the caller to claim + join.
-- KEYS[1] peer hash  [2] owner  [3] room peers  [4] routes  [5] presence  [6] meta  [7] change log
--     [8] rooms index  [9] the instance's peer set
-- ARGV[1] conn  [2] room  [3] session hash  [4] at  [5] subject  [6] ttl s  [7] ownership ttl ms
--     [8] now ms  [9] rooms index ttl ms  [10..22] join()'s thirteen arguments
-- Reply: {'HELD'} or what join() returns.
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return {'HELD'} end
local A = {}
for i = 10, 22 do A[#A + 1] = ARGV[i] end
local out = join({KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]}, A)
if out[1] ~= 'OK' then return out end
redis.call('HSET', KEYS[1], 'conn', ARGV[1], 'room', ARGV[2], 'session', ARGV[3], 'subject', ARGV[5], 'at', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[6])
if ARGV[5] ~= '' then redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[7]) end
redis.call('ZADD', KEYS[8], ARGV[8], ARGV[2])
redis.call('PEXPIRE', KEYS[8], ARGV[9])
redis.call('SADD', KEYS[9], A[1])
return out
