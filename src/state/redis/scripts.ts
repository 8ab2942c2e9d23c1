/**
 * Lua scripts. Each touches the keys of one hash slot only (one room, one peer), so the same
 * scripts run on Redis Cluster; REGISTER_FRESH, for a standalone Redis only, is the exception. `srv(conn)` is the server id part of a connection id.
 */

const SERVER_OF = `local function srv(c) return string.match(c, '^(.*):[^:]*$') end`;

/**
 * Claim a peer id for a connection. KEYS: peer, owner. ARGV: conn, room, proof session hash,
 * proofSubject, newestWins, new session hash, at, subject, ttl s, ownership ttl ms. Session tokens
 * are kept as hashes only. A peer id owned by another authenticated subject is TAKEN even while
 * nobody holds it. Returns {'TAKEN', priorRoom} or {'OK', session, at, prior conn, room, session,
 * subject, at}. A claim into the same room keeps connected_at, and the session token when the
 * connection holds it already or proved the takeover with it.
 */
export const CLAIM = `
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
`;

/** Undo a claim (the room was full). KEYS: peer. ARGV: conn, prior conn ('' = none), room, session, subject, at. */
export const UNCLAIM = `
if redis.call('HGET', KEYS[1], 'conn') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1])
else redis.call('HSET', KEYS[1], 'conn', ARGV[2], 'room', ARGV[3], 'session', ARGV[4], 'subject', ARGV[5], 'at', ARGV[6]) end
return 1
`;

/** Delete a peer key if the connection still holds it. KEYS: peer. ARGV: conn. */
export const RELEASE = `
if redis.call('HGET', KEYS[1], 'conn') == ARGV[1] then redis.call('DEL', KEYS[1]); return 1 end
return 0
`;

/**
 * Add (or replace) a peer in a room, checking the room limit with the peer's own slots free.
 * KEYS: peers, routes, presence, meta. ARGV: peer, record, conn, presence, max, wantAdmin,
 * vacated peer in this room ('' = none), now ms, ttl s, the room version the caller holds a copy
 * of ('' = none).
 * Returns {'FULL'} or {'OK', admin, conflict, previous record of the peer here or '', version after,
 * other presence subscribers, then '1', peer1, record1, ... (the whole room) or '0', version before
 * (the room was at the version the caller named: it applies the join to its copy itself)}.
 */
const JOIN_FN = `local function join(K, A)
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
end`;

export const JOIN = `${JOIN_FN}
return join(KEYS, ARGV)
`;

/**
 * A first registration under a peer id nobody holds or owns, in one call: JOIN, then CLAIM's writes,
 * the room index and the instance's peer set. Its keys span slots, so it runs on a standalone Redis
 * only; anything else ('HELD') takes the two calls CLAIM then JOIN.
 * KEYS: peer, owner, room peers, routes, presence, meta, rooms index, instance peers.
 * ARGV: conn, room, session, at, subject, ttl s, ownership ttl ms, now ms, rooms index ttl ms, then
 * JOIN's ten arguments. Returns {'HELD'} or what JOIN returns.
 */
export const REGISTER_FRESH = `${JOIN_FN}
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return {'HELD'} end
local A = {}
for i = 10, 19 do A[#A + 1] = ARGV[i] end
local out = join({KEYS[3], KEYS[4], KEYS[5], KEYS[6]}, A)
if out[1] ~= 'OK' then return out end
redis.call('HSET', KEYS[1], 'conn', ARGV[1], 'room', ARGV[2], 'session', ARGV[3], 'subject', ARGV[5], 'at', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[6])
if ARGV[5] ~= '' then redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[7]) end
redis.call('ZADD', KEYS[7], ARGV[8], ARGV[2])
redis.call('PEXPIRE', KEYS[7], ARGV[9])
redis.call('SADD', KEYS[8], A[1])
return out
`;

/**
 * Remove a peer from a room if the connection still holds it. KEYS: peers, routes, presence,
 * meta. ARGV: peer, conn, now ms, ttl s. Returns the removed record or nil.
 */
export const LEAVE = `
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return false end
local rec = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('HGET', KEYS[4], 'admin') == ARGV[1] then redis.call('HDEL', KEYS[4], 'admin') end
redis.call('HSET', KEYS[4], 'last_used', ARGV[3])
redis.call('HINCRBY', KEYS[4], 'v', 1)
redis.call('EXPIRE', KEYS[4], ARGV[4])
return rec
`;

/** Replace an owned record. KEYS: peers, routes, meta. ARGV: peer, conn, record. Returns 1 or 0. */
export const UPDATE = `
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HINCRBY', KEYS[3], 'v', 1)
return 1
`;

/**
 * A room's records, unless the caller's copy is current. Every change to a room's records bumps
 * its version (meta field v). KEYS: peers, meta. ARGV: the version the caller holds ('' = none).
 * Returns {version} when unchanged, else {version, record1, record2, ...}.
 */
export const LIST_ROOM = `
-- created_at tells a room apart from an earlier room of the same id (its meta may have expired).
local m = redis.call('HMGET', KEYS[2], 'created_at', 'v')
if not m[2] then return {''} end
local v = (m[1] or '') .. ':' .. m[2]
if v == ARGV[1] then return {v} end
local out = {v}
for _, r in ipairs(redis.call('HVALS', KEYS[1])) do out[#out + 1] = r end
return out
`;

/**
 * Publish a presence envelope once to every instance with subscribers in the room.
 * KEYS: presence. ARGV: channel prefix, envelope, server to skip ('' = none).
 */
export const PRESENCE = `
${SERVER_OF}
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
`;

/**
 * Rewrite an instance's own peer after Redis came back (possibly empty).
 * KEYS: peers, routes, presence, meta. ARGV: peer, record, conn, presence, isAdmin, now ms, ttl s.
 */
export const RESTORE = `
local added = redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
if ARGV[4] == '1' then redis.call('HSET', KEYS[3], ARGV[1], ARGV[3]) else redis.call('HDEL', KEYS[3], ARGV[1]) end
if ARGV[5] == '1' and not redis.call('HGET', KEYS[4], 'admin') then redis.call('HSET', KEYS[4], 'admin', ARGV[1]) end
redis.call('HSETNX', KEYS[4], 'created_at', ARGV[6])
redis.call('HSET', KEYS[4], 'last_used', ARGV[6])
redis.call('HINCRBY', KEYS[4], 'v', 1)
for i = 1, 4 do redis.call('EXPIRE', KEYS[i], ARGV[7]) end
return added
`;

/**
 * Route the relays into one room that an instance handled in one tick, in one round trip: each
 * target looked up in the room's routing table, then one PUBLISH per instance carrying every
 * envelope for it (alone, or as a batch: 'b' then "<byte length>:<envelope>" per relay).
 * KEYS: routes. ARGV: channel prefix, then peer and envelope per relay. Returns receivers and conn
 * per relay, flat (-1 and '' for a target not in this room).
 */
export const ROUTE = `
${SERVER_OF}
local conns, byServer, order = {}, {}, {}
for i = 2, #ARGV, 2 do
  local c = redis.call('HGET', KEYS[1], ARGV[i])
  conns[#conns + 1] = c or ''
  if c then
    local s = srv(c)
    local list = byServer[s]
    if not list then list = {}; byServer[s] = list; order[#order + 1] = s end
    list[#list + 1] = ARGV[i + 1]
  end
end
local receivers = {}
for _, s in ipairs(order) do
  local list = byServer[s]
  local message = list[1]
  if #list > 1 then
    local parts = {'b'}
    for _, e in ipairs(list) do parts[#parts + 1] = #e .. ':' .. e end
    message = table.concat(parts)
  end
  receivers[s] = redis.call('PUBLISH', ARGV[1] .. s .. '}', message)
end
local out = {}
for _, c in ipairs(conns) do
  if c == '' then out[#out + 1] = -1 else out[#out + 1] = receivers[srv(c)] end
  out[#out + 1] = c
end
return out
`;

export const SCRIPTS = {
  sigClaim: { numberOfKeys: 2, lua: CLAIM },
  sigUnclaim: { numberOfKeys: 1, lua: UNCLAIM },
  sigRelease: { numberOfKeys: 1, lua: RELEASE },
  sigJoin: { numberOfKeys: 4, lua: JOIN },
  sigRegisterFresh: { numberOfKeys: 8, lua: REGISTER_FRESH },
  sigLeave: { numberOfKeys: 4, lua: LEAVE },
  sigUpdate: { numberOfKeys: 3, lua: UPDATE },
  sigListRoom: { numberOfKeys: 2, lua: LIST_ROOM },
  sigRoute: { numberOfKeys: 1, lua: ROUTE },
  sigPresence: { numberOfKeys: 1, lua: PRESENCE },
  sigRestore: { numberOfKeys: 4, lua: RESTORE },
} as const;
