-- Shared piece: logChange(log, v, kind, server, peer, ttl) records one change of a room's records
-- in its change log (newest first, the last 256 kept). kind: j join, r restore, u update, l leave;
-- server: the joining connection's instance (joins only, '' otherwise).
local function logChange(log, v, kind, server, peer, ttl)
  redis.call('LPUSH', log, v .. ' ' .. kind .. ' ' .. server .. ' ' .. peer)
  redis.call('LTRIM', log, 0, 255)
  redis.call('EXPIRE', log, ttl)
end
