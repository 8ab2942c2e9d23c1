-- join: a peer joins a room (join-function.lua and its pieces are prepended).
-- KEYS: room peers, routes, presence, meta, change log.   ARGV: join()'s thirteen arguments.   Reply: what join() returns.
return join(KEYS, ARGV)
