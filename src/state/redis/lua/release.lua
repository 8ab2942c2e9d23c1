-- release: delete a peer hash if the connection still holds it.
-- KEYS[1] peer hash
-- ARGV[1] conn
-- Reply: 1 when deleted, 0 otherwise.
if redis.call('HGET', KEYS[1], 'conn') == ARGV[1] then redis.call('DEL', KEYS[1]); return 1 end
return 0
