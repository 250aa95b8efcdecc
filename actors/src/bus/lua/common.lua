-- Shared by the bus scripts. KEYS[1] is always the epoch key; ARGV[1] an epoch to start
-- if there is none (Redis lost its data), ARGV[2] the control channel that announces it.

local function current_epoch()
  local epoch = redis.call('GET', KEYS[1])
  if not epoch then
    epoch = ARGV[1]
    redis.call('SET', KEYS[1], epoch)
    redis.call('PUBLISH', ARGV[2], cjson.encode({epoch = epoch}))
  end
  return epoch
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- History entries are "<offset> <published ms> <event json>", oldest first.
local function trim_by_age(history, max_age_ms)
  local oldest = now_ms() - max_age_ms
  while true do
    local head = redis.call('LINDEX', history, 0)
    if not head then return end
    local at = tonumber(string.match(head, '^%d+ (%d+) '))
    if at >= oldest then return end
    redis.call('LPOP', history)
  end
end

