-- join(K, A): add (or replace) a peer in a room, checking the room limit with the peer's own slots
-- free. Shared by join.lua and register-fresh.lua (server-of.lua, log-change.lua and
-- changes-since.lua are prepended).
-- K[1] room peers  K[2] routes  K[3] presence  K[4] meta  K[5] change log
-- A[1] peer  [2] record JSON  [3] conn  [4] presence '1'/'0'  [5] max peers  [6] wants admin '1'/'0'
--  [7] vacated peer in this room ('' = none)  [8] now ms  [9] ttl s
--  [10] the version the room will be at if only the caller's joins in flight change it ('' = no copy)
--  [11] the version of the caller's copy now ('' = no copy)
--  [12] a fresh token: the room's epoch if this join begins the room (versions are "<epoch>:<v>",
--       so a room made again under the same id never matches a copy of the earlier one)
--  [13] '1' when the caller reads its replies in the order Redis runs its calls (one connection):
--       the changes are then only those after its own latest earlier join (see changes-since.lua)
-- Returns {'FULL'} or
--   {'OK', admin, conflict, previous record of the peer here or '', version after, other presence
--    subscribers, '1', peer1, record1, ...}  (the whole room), or
--   {'OK', admin, conflict, previous, version after, audience, '0', version before}
--    (the room was at the version the caller expected: it applies the join to its copy itself), or
--   {'OK', admin, conflict, previous, version after, audience, '2', peer1, record1 or '', ...}
--    (the peers changed since the caller's copy, but its own instance's joins)
local function join(K, A)
  local before = redis.call('HMGET', K[4], 'epoch', 'v')
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
  redis.call('HSETNX', K[4], 'epoch', A[12])
  redis.call('HSET', K[4], 'last_used', A[8])
  local v = redis.call('HINCRBY', K[4], 'v', 1)
  if vac ~= '' then logChange(K[5], v, 'l', '', vac, A[9]) end
  logChange(K[5], v, 'j', srv(A[3]), A[1], A[9])
  for i = 1, 4 do redis.call('EXPIRE', K[i], A[9]) end
  local epoch = redis.call('HGET', K[4], 'epoch')
  local version = epoch .. ':' .. v
  local audience = redis.call('HLEN', K[3])
  if A[4] == '1' then audience = audience - 1 end
  if current then return {'OK', admin or '', conflict, old or '', version, audience, '0', A[10]} end
  if A[11] ~= '' then
    local changes = {'OK', admin or '', conflict, old or '', version, audience, '2'}
    if changesSince(changes, K[1], K[5], epoch, A[11], A[1], srv(A[3]), A[13] == '1' and v or nil) then return changes end
  end
  local out = {'OK', admin or '', conflict, old or '', version, audience, '1'}
  local all = redis.call('HGETALL', K[1])
  for i = 1, #all do out[#out + 1] = all[i] end
  return out
end
