-- Shared by the bus scripts. KEYS[1] is always the epoch key; ARGV[1] an epoch to start
-- if there is none (Redis lost its data), ARGV[2] the control channel that announces it.
-- Beside the epoch, `<epoch key>:run-id` keeps the run id of the Redis process the epoch
-- was started or checked on (a restarted Redis has another one).

local function run_id()
  return string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
end

-- Starts `epoch` now: records it with this Redis's run id and announces it.
local function start_epoch(epoch)
  redis.call('SET', KEYS[1], epoch)
  redis.call('SET', KEYS[1] .. ':run-id', run_id())
  redis.call('PUBLISH', ARGV[2], cjson.encode({epoch = epoch}))
  return epoch
end

local function current_epoch()
  return redis.call('GET', KEYS[1]) or start_epoch(ARGV[1])
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

