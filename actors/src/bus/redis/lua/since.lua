-- KEYS: epoch, offset, history. ARGV: [3] client's epoch, [4] client's offset,
-- [5] max age (ms). Answers {epoch, last offset, 1 and the entries after the client's
-- offset} or {epoch, last offset, 0} when the history cannot cover it.
local epoch = current_epoch()
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local since = tonumber(ARGV[4])
if epoch ~= ARGV[3] or since > last then return {epoch, last, 0, {}} end
if since == last then return {epoch, last, 1, {}} end
trim_by_age(KEYS[3], tonumber(ARGV[5]))
local head = redis.call('LINDEX', KEYS[3], 0)
if not head then return {epoch, last, 0, {}} end
local first = tonumber(string.match(head, '^(%d+) '))
if first > since + 1 then return {epoch, last, 0, {}} end
return {epoch, last, 1, redis.call('LRANGE', KEYS[3], since + 1 - first, -1)}
