-- list-room: a room's records, unless the caller's copy is current; only what changed since the
-- copy when the change log reaches back to it (changes-since.lua is prepended). Every change to a
-- room's records bumps its version (meta field v); the epoch tells a room apart from an earlier
-- room of the same id (its meta may have expired).
-- KEYS[1] room peers  [2] meta  [3] change log
-- ARGV[1] the version the caller holds ('' = none)
-- Reply: {''} (no version), {version} (unchanged), {version, '1', record1, record2, ...} (the whole
--   room) or {version, '2', peer1, record1 or '', ...} (the peers changed since the caller's copy).
local m = redis.call('HMGET', KEYS[2], 'epoch', 'v')
if not m[2] then return {''} end
local epoch = m[1] or ''
local v = epoch .. ':' .. m[2]
if v == ARGV[1] then return {v} end
if ARGV[1] ~= '' then
  local changes = {v, '2'}
  if changesSince(changes, KEYS[1], KEYS[3], epoch, ARGV[1], '', '') then return changes end
end
local out = {v, '1'}
for _, r in ipairs(redis.call('HVALS', KEYS[1])) do out[#out + 1] = r end
return out
