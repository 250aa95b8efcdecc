-- KEYS: the set of nodes. ARGV: [1] this node, [2] a user id, [3] the presence key prefix.
-- Whether another live node has a socket of that user; forgets nodes whose presence expired
-- (stopped or killed).
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if node ~= ARGV[1] then
    local key = ARGV[3] .. node
    if redis.call('EXISTS', key) == 0 then
      redis.call('SREM', KEYS[1], node)
    elseif redis.call('SISMEMBER', key, ARGV[2]) == 1 then
      return 1
    end
  end
end
return 0
