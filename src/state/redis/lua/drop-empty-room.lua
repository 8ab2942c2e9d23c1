-- drop-empty-room: remove a room whose peers are all gone, with everything it holds (admin seat,
-- created_at), atomically: a peer joining meanwhile keeps the room.
-- KEYS[1] room peers  [2] routes  [3] presence  [4] meta  [5] change log
-- Reply: 1 when dropped, 0 when someone is in the room.
if redis.call('HLEN', KEYS[1]) > 0 or redis.call('HLEN', KEYS[2]) > 0 then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
return 1
