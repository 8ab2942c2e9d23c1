-- claim: take a peer id for a connection.
-- KEYS[1] peer hash   KEYS[2] owner (authenticated subject)
-- ARGV[1] conn  [2] room  [3] proof session hash  [4] proof subject  [5] newest wins '1'/'0'
--     [6] new session hash  [7] at (connected_at)  [8] subject  [9] ttl s  [10] ownership ttl ms
-- Reply: {'TAKEN', prior room} or
--        {'OK', session hash kept, at, prior conn, prior room, prior session, prior subject, prior at}
-- Session tokens are kept as hashes only. A peer id owned by another authenticated subject is
-- TAKEN even while nobody holds it. A claim into the same room keeps connected_at, and the session
-- token when the connection holds it already or proved the takeover with it.
local cur = redis.call('HMGET', KEYS[1], 'conn', 'room', 'session', 'subject', 'at')
local owner = redis.call('GET', KEYS[2])
if owner and owner ~= ARGV[8] then return {'TAKEN', cur[2] or ''} end
if cur[1] and cur[1] ~= ARGV[1] then
  local proven = ARGV[5] == '1' or (ARGV[3] ~= '' and ARGV[3] == cur[3]) or (ARGV[4] ~= '' and ARGV[4] == cur[4])
  if not proven then return {'TAKEN', cur[2] or ''} end
end
local session, at = ARGV[6], ARGV[7]
if cur[1] and cur[2] == ARGV[2] then
  at = cur[5]
  if cur[1] == ARGV[1] or (ARGV[3] ~= '' and ARGV[3] == cur[3]) then session = cur[3] end
end
redis.call('HSET', KEYS[1], 'conn', ARGV[1], 'room', ARGV[2], 'session', session, 'subject', ARGV[8], 'at', at)
redis.call('EXPIRE', KEYS[1], ARGV[9])
if ARGV[8] ~= '' then redis.call('SET', KEYS[2], ARGV[8], 'PX', ARGV[10]) end
return {'OK', session, at, cur[1] or '', cur[2] or '', cur[3] or '', cur[4] or '', cur[5] or ''}
