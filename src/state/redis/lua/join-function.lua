-- join(K, A): add (or replace) a peer in a room, checking the room limit with the peer's own slots
-- free. Shared by join.lua and register-fresh.lua.
-- K[1] room peers  K[2] routes  K[3] presence  K[4] meta
-- A[1] peer  [2] record JSON  [3] conn  [4] presence '1'/'0'  [5] max peers  [6] wants admin '1'/'0'
--  [7] vacated peer in this room ('' = none)  [8] now ms  [9] ttl s
--  [10] the room version the caller holds a copy of ('' = none)
-- Returns {'FULL'} or
--   {'OK', admin, conflict, previous record of the peer here or '', version after, other presence
--    subscribers, '1', peer1, record1, ...}  (the whole room), or
--   {'OK', admin, conflict, previous, version after, audience, '0', version before}
--    (the room was at the version the caller named: it applies the join to its copy itself)
local function join(K, A)
  local before = redis.call('HMGET', K[4], 'created_at', 'v')
  local current = before[2] and A[10] ~= '' and ((before[1] or '') .. ':' .. before[2]) == A[10]
  local n = redis.call('HLEN', K[1])
  if redis.call('HEXISTS', K[1], A[1]) == 1 then n = n - 1 end
  local vac = A[7]
  if vac ~= '' and vac ~= A[1] and redis.call('HGET', K[2], vac) == A[3] then n = n - 1 else vac = '' end
  if n >= tonumber(A[5]) then return {'FULL'} end
  local admin = redis.call('HGET', K[4], 'admin')
  local old = redis.call('HGET', K[1], A[1])
  if vac ~= '' then
    redis.call('HDEL', K[1], vac)
    redis.call('HDEL', K[2], vac)
    redis.call('HDEL', K[3], vac)
    if admin == vac then admin = false end
  end
  redis.call('HSET', K[1], A[1], A[2])
  redis.call('HSET', K[2], A[1], A[3])
  if A[4] == '1' then redis.call('HSET', K[3], A[1], A[3]) else redis.call('HDEL', K[3], A[1]) end
  local conflict = ''
  if A[6] == '1' then
    if (not admin) or admin == A[1] then admin = A[1] else conflict = admin end
  elseif admin == A[1] then
    admin = false
  end
  if admin then redis.call('HSET', K[4], 'admin', admin) else redis.call('HDEL', K[4], 'admin') end
  redis.call('HSETNX', K[4], 'created_at', A[8])
  redis.call('HSET', K[4], 'last_used', A[8])
  local v = redis.call('HINCRBY', K[4], 'v', 1)
  for i = 1, 4 do redis.call('EXPIRE', K[i], A[9]) end
  local version = redis.call('HGET', K[4], 'created_at') .. ':' .. v
  local audience = redis.call('HLEN', K[3])
  if A[4] == '1' then audience = audience - 1 end
  if current then return {'OK', admin or '', conflict, old or '', version, audience, '0', A[10]} end
  local out = {'OK', admin or '', conflict, old or '', version, audience, '1'}
  local all = redis.call('HGETALL', K[1])
  for i = 1, #all do out[#out + 1] = all[i] end
  return out
end
