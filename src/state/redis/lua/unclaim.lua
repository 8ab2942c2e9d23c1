-- unclaim: undo a claim (the room was full).
-- KEYS[1] peer hash
-- ARGV[1] conn  [2] prior conn ('' = none)  [3] prior room  [4] prior session  [5] prior subject  [6] prior at
-- Reply: 1 when undone, 0 when the connection no longer holds the id.
if redis.call('HGET', KEYS[1], 'conn') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1])
else redis.call('HSET', KEYS[1], 'conn', ARGV[2], 'room', ARGV[3], 'session', ARGV[4], 'subject', ARGV[5], 'at', ARGV[6]) end
return 1
