-- KEYS: epoch. ARGV: [3] the epoch in which the calling node failed to publish, or "-",
-- [4] the calling node. Starts a new epoch if there is none; if Redis restarted or failed
-- over since the epoch was checked (another run id: it may have come back with only part
-- of its history, e.g. an AOF synced every second); or if the caller failed to publish in
-- the current epoch (nobody has moved it on since). Then announces the node with the
-- epoch, on the control channel, where it reaches every node in publishing order.
local epoch = redis.call('GET', KEYS[1])
if not epoch or redis.call('GET', KEYS[1] .. ':run-id') ~= run_id() or epoch == ARGV[3] then
  epoch = start_epoch(ARGV[1])
end
redis.call('PUBLISH', ARGV[2], cjson.encode({resumed = {node = ARGV[4], epoch = epoch}}))
return epoch
