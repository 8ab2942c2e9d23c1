-- create-room: a room's token hash with its expiry in one step, so that a failure leaves nothing
-- (a hash without a TTL would hold the room id forever). Writes only if no live record exists.
-- KEYS[1] the room's token hash
-- ARGV[1] token hash  [2] created_at  [3] expires_at (Unix ms)  [4] created_by ('' = none)  [5] now (Unix ms)
-- Reply: 1 when created, 0 when a live record exists; an error for a bad expires_at.
local expires = tonumber(ARGV[3])
local now = tonumber(ARGV[5])
if not expires or expires ~= math.floor(expires) or expires <= now or expires > 9007199254740991 then
  return redis.error_reply('ERR expires_at must be whole Unix milliseconds in the future')
end
local current = tonumber(redis.call('HGET', KEYS[1], 'expires_at'))
if current and current > now then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'token_hash', ARGV[1], 'created_at', ARGV[2], 'expires_at', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'created_by', ARGV[4]) end
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 1
