-- KEYS: epoch. ARGV: [1] the new epoch, [2] the control channel. After a publish that may
-- not have reached the history, no client may recover across the gap.
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], cjson.encode({epoch = ARGV[1]}))
return ARGV[1]
