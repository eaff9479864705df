-- Reads what a checkout of a cart would charge; changes nothing but a refusal's record under its key
-- (so a retry gets the same refusal, as from the engine).
-- ARGV: prefix, cart, buyer, now_ms, owner, key, fingerprint, key_ttl_ms.
-- Answers {'recorded', outcome}, {'reused'}, {'refused', outcome} or {'quote', then per active hold:
-- hold, drop, quantity, price_minor, currency, product_id, title, room_id, creator_id}.
local p, cart, buyer, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local idem = idempotency_key(ARGV[5], ARGV[6])
local answered = recorded(idem, ARGV[7])
if answered then return answered end
local function refuse(outcome)
  record(idem, ARGV[7], outcome, ARGV[8])
  return {'refused', outcome}
end
local c = redis.call('HMGET', p .. 'cart:' .. cart, 'buyer', 'status')
if c[1] ~= buyer then return refuse('err|not_found') end
if c[2] == 'checked_out' then return refuse('err|cart_checked_out') end
local answer = {'quote'}
for _, hold in ipairs(redis.call('LRANGE', p .. 'cart_holds:' .. cart, 0, -1)) do
  local h = redis.call('HMGET', p .. 'hold:' .. hold, 'drop', 'qty', 'expires', 'status')
  if h[4] == 'active' and tonumber(h[3]) > now then
    local d = redis.call('HMGET', p .. 'drop:' .. h[1], 'price_minor', 'currency', 'product_id', 'title', 'room_id',
      'creator_id')
    for _, value in ipairs({hold, h[1], h[2], d[1], d[2], d[3], d[4], d[5], d[6]}) do
      table.insert(answer, value)
    end
  end
end
if #answer == 1 then return refuse('err|cart_expired') end
return answer
