-- KEYS: epoch, offset.
return {current_epoch(), tonumber(redis.call('GET', KEYS[2]) or '0')}
