-- Shared helper, prepended to the scripts that name it (route, presence).
-- srv(conn): the server id part of a connection id "<serverId>:<n>".
local function srv(c) return string.match(c, '^(.*):[^:]*$') end
