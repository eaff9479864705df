-- Completes a charged (or declined) checkout if the cart still holds exactly the quoted holds.
-- ARGV: prefix, cart, buyer, now_ms, owner, key, fingerprint, key_ttl_ms, decision, quoted holds
-- (comma separated), order outcome (stored as is). decision is 'approved' or 'declined|<code>'.
-- Answers {'recorded', outcome}, {'reused'} or {'decided', outcome}.
local p, cart, buyer, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local idem = idempotency_key(ARGV[5], ARGV[6])
local answered = recorded(idem, ARGV[7])
if answered then return answered end
local outcome
if ARGV[9] ~= 'approved' then
  outcome = 'err|payment_declined|' .. string.sub(ARGV[9], 10)
else
  local active = {}
  for _, hold in ipairs(redis.call('LRANGE', p .. 'cart_holds:' .. cart, 0, -1)) do
    local h = redis.call('HMGET', p .. 'hold:' .. hold, 'expires', 'status')
    if h[2] == 'active' and tonumber(h[1]) > now then table.insert(active, hold) end
  end
  local c = redis.call('HMGET', p .. 'cart:' .. cart, 'status', 'room')
  if c[1] ~= 'open' or table.concat(active, ',') ~= ARGV[10] then
    outcome = 'err|cart_changed'
  else
    for _, hold in ipairs(active) do
      redis.call('HSET', p .. 'hold:' .. hold, 'status', 'sold')
      redis.call('ZREM', p .. 'expiry', hold)
    end
    redis.call('HSET', p .. 'cart:' .. cart, 'status', 'checked_out')
    redis.call('DEL', p .. 'open_cart:' .. buyer .. ':' .. c[2])
    outcome = ARGV[11]
  end
end
record(idem, ARGV[7], outcome, ARGV[8])
return {'decided', outcome}
