-- route: the relays into one room that an instance handled in one tick, in one round trip: each
-- target looked up in the room's routing table, then one PUBLISH per instance carrying every
-- envelope for it (alone, or as a batch: 'b' then "<byte length>:<envelope>" per relay).
-- server-of.lua is prepended.
-- KEYS[1] the room's routes
-- ARGV[1] channel prefix, then [2k] target peer and [2k+1] envelope per relay
-- Reply: flat, per relay: receivers and conn (-1 and '' for a target not in this room).
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
