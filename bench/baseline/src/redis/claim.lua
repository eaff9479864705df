-- Claims units of a drop in one atomic step: idempotency, sale window, per-buyer limit, stock,
-- cart, hold. ARGV: prefix, drop, buyer, quantity, now_ms, owner, key, fingerprint, key_ttl_ms.
-- Answers {'recorded', outcome}, {'reused'}, {'unknown_drop'} or {'decided', outcome}.
local p, drop, buyer, qty, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local idem = idempotency_key(ARGV[6], ARGV[7])
local answered = recorded(idem, ARGV[8])
if answered then return answered end
local drop_key = p .. 'drop:' .. drop
local d = redis.call('HMGET', drop_key, 'remaining', 'per_buyer_limit', 'hold_ms', 'opens_at', 'closes_at', 'room_id')
if not d[1] then return {'unknown_drop'} end
local remaining, limit = tonumber(d[1]), tonumber(d[2])
local already = tonumber(redis.call('HGET', p .. 'units:' .. drop, buyer) or '0')
local outcome
if tonumber(d[4]) > now or (d[5] ~= '' and tonumber(d[5]) <= now) then
  outcome = 'err|drop_not_open'
elseif already + qty > limit then
  outcome = 'err|limit_exceeded|' .. limit .. '|' .. already
elseif qty > remaining then
  outcome = 'err|sold_out|' .. remaining
else
  redis.call('HINCRBY', drop_key, 'remaining', -qty)
  redis.call('HINCRBY', p .. 'units:' .. drop, buyer, qty)
  local open_cart = p .. 'open_cart:' .. buyer .. ':' .. d[6]
  local cart = redis.call('GET', open_cart)
  if not cart then
    cart = tostring(redis.call('INCR', p .. 'serial'))
    redis.call('SET', open_cart, cart)
    redis.call('HSET', p .. 'cart:' .. cart, 'buyer', buyer, 'room', d[6], 'status', 'open')
  end
  local hold = tostring(redis.call('INCR', p .. 'serial'))
  local expires = now + tonumber(d[3])
  redis.call('HSET', p .. 'hold:' .. hold, 'drop', drop, 'cart', cart, 'buyer', buyer, 'qty', qty,
    'expires', expires, 'status', 'active')
  redis.call('RPUSH', p .. 'cart_holds:' .. cart, hold)
  redis.call('ZADD', p .. 'expiry', expires, hold)
  outcome = 'ok|' .. hold .. '|' .. cart .. '|' .. expires
end
record(idem, ARGV[8], outcome, ARGV[9])
return {'decided', outcome}
