-- Returns the units of expired holds to their drops and buyers, at most ARGV[3] holds per call.
-- ARGV: prefix, now_ms, holds_max. Answers the number of holds swept.
local p = ARGV[1]
local due = redis.call('ZRANGEBYSCORE', p .. 'expiry', '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, hold in ipairs(due) do
  local h = redis.call('HMGET', p .. 'hold:' .. hold, 'drop', 'buyer', 'qty', 'status')
  if h[4] == 'active' then
    redis.call('HSET', p .. 'hold:' .. hold, 'status', 'expired')
    redis.call('HINCRBY', p .. 'drop:' .. h[1], 'remaining', h[3])
    redis.call('HINCRBY', p .. 'units:' .. h[1], h[2], -tonumber(h[3]))
  end
  redis.call('ZREM', p .. 'expiry', hold)
end
return #due
