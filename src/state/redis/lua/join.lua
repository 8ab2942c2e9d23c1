-- join: a peer joins a room (join-function.lua is prepended).
-- KEYS: room peers, routes, presence, meta.   ARGV: join()'s ten arguments.   Reply: what join() returns.
return join(KEYS, ARGV)
