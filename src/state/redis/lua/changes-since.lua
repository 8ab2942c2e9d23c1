-- Shared piece: changesSince(out, peers, log, epoch, held, skipPeer, ownServer, ownBefore) appends
-- to `out` the peers changed since version `held` ("<epoch>:<v>") of the caller's copy, each as
-- peer id then its record ('' when it is gone), newest change first, each peer once. A peer whose
-- newest change is a join by `ownServer` is left out: that instance applied it to its copy itself.
-- `ownBefore` (a version number, or nil): the caller reads its replies in the order Redis ran its
-- calls, so an earlier join by `ownServer` below that version had its reply read first, which
-- brought the copy up to that join's version (or left no copy): the walk stops there too. Without
-- it, a burst of joins sent against one copy each got every change since that copy again.
-- Returns false when the copy is of another room of the same id, or the log no longer reaches
-- back to `held` (the caller then needs the whole room).
local function changesSince(out, peers, log, epoch, held, skipPeer, ownServer, ownBefore)
  local hc, hv = string.match(held, '^(.*):(%d+)$')
  if hc == nil or hc ~= epoch then return false end
  hv = tonumber(hv)
  local seen = {}
  local entries = redis.call('LRANGE', log, 0, -1)
  local oldest = nil
  for _, e in ipairs(entries) do
    local ev, kind, server, peer = string.match(e, '^(%d+) (%a) (%S*) (.*)$')
    ev = tonumber(ev)
    if ev <= hv then return true end
    if ownBefore and ev < ownBefore and kind == 'j' and server == ownServer then return true end
    oldest = ev
    if not seen[peer] then
      seen[peer] = true
      if peer ~= skipPeer and not (kind == 'j' and server == ownServer) then
        out[#out + 1] = peer
        out[#out + 1] = redis.call('HGET', peers, peer) or ''
      end
    end
  end
  -- The log ends before reaching `held`: complete only if nothing was ever trimmed from it and it
  -- starts right after `held` (every change bumps the version, so no version is missing).
  return #entries < 256 and oldest == hv + 1
end
