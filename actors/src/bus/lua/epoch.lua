-- KEYS: epoch, the run id of the Redis the epoch was checked against. ARGV: [1] an epoch
-- to start, [2] the control channel, [3] the run id of the Redis answering now, [4] "1"
-- when the calling node failed to publish something (the history may lack it).
-- A Redis that restarted (or failed over) may have come back with only part of its history
-- (an AOF synced every second, a lagging replica): offsets could repeat with other
-- messages, so the epoch starts over once, by whichever node notices first.
local epoch = redis.call('GET', KEYS[1])
if not epoch or ARGV[4] == '1' or redis.call('GET', KEYS[2]) ~= ARGV[3] then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
  redis.call('SET', KEYS[2], ARGV[3])
  redis.call('PUBLISH', ARGV[2], cjson.encode({epoch = epoch}))
end
return epoch
