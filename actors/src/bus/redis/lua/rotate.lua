-- KEYS: epoch. ARGV: [3] the epoch in which a publish failed ("" if the node knew none).
-- No client may recover across a message that may be missing: unless the epoch has moved
-- on since the failure (another node, a restart), start a new one.
local epoch = redis.call('GET', KEYS[1])
if not epoch or epoch == ARGV[3] or ARGV[3] == '' then
  return start_epoch(ARGV[1])
end
return epoch
