-- list-room: a room's records, unless the caller's copy is current. Every change to a room's
-- records bumps its version (meta field v); created_at tells a room apart from an earlier room of
-- the same id (its meta may have expired).
-- KEYS[1] room peers  [2] meta
-- ARGV[1] the version the caller holds ('' = none)
-- Reply: {''} (no version), {version} (unchanged), or {version, record1, record2, ...}.
local m = redis.call('HMGET', KEYS[2], 'created_at', 'v')
if not m[2] then return {''} end
local v = (m[1] or '') .. ':' .. m[2]
if v == ARGV[1] then return {v} end
local out = {v}
for _, r in ipairs(redis.call('HVALS', KEYS[1])) do out[#out + 1] = r end
return out
