-- KEYS: epoch, offset, history. ARGV: [3] topic channel, [4] event json,
-- [5] max messages, [6] max age (ms). Offset, history and the live publication change
-- together, so the history never disagrees with what was delivered.
local epoch = current_epoch()
local offset = redis.call('INCR', KEYS[2])
redis.call('RPUSH', KEYS[3], string.format('%d %d ', offset, now_ms()) .. ARGV[4])
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[5]), -1)
trim_by_age(KEYS[3], tonumber(ARGV[6]))
redis.call('PEXPIRE', KEYS[3], ARGV[6])
redis.call('PUBLISH', ARGV[3], string.format('%s %d ', epoch, offset) .. ARGV[4])
return {epoch, offset}
