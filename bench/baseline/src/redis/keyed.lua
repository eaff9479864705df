-- Prepended to every keyed script when it is built: the request's idempotency record.
-- ARGV[1] is always the key prefix.
local function idempotency_key(owner, key)
  return ARGV[1] .. 'idem:' .. owner .. ':' .. key
end
-- The stored answer for this request, {'reused'} for another request under the key, nil for a new key.
local function recorded(idem, fingerprint)
  local stored = redis.call('HMGET', idem, 'fingerprint', 'outcome')
  if not stored[1] then return nil end
  if stored[1] == fingerprint then return {'recorded', stored[2]} end
  return {'reused'}
end
local function record(idem, fingerprint, outcome, ttl_ms)
  redis.call('HSET', idem, 'fingerprint', fingerprint, 'outcome', outcome)
  redis.call('PEXPIRE', idem, ttl_ms)
end
