-- GET customer detail for ids chosen uniformly at random from a working set,
-- with the same JSON summary line as fixed.lua.
--   wrk ... -s ids.lua http://HOST:PORT -- PREFIX COUNT
-- Ids are customer_<PREFIX><i as 24 decimal digits>, i in [0, COUNT): the ones
-- `loadgen sweep --prefix PREFIX --count COUNT` reads to warm the cache.

local requests_by_index = {}

init = function(args)
  local prefix = args[1] or "00000001"
  local count = tonumber(args[2] or "1000")
  for i = 0, count - 1 do
    local path = "/api/v1/customer/customer/customer_" .. prefix .. string.format("%024d", i)
    requests_by_index[i + 1] = wrk.format("GET", path)
  end
  -- A fixed seed: every run reads the same sequence.
  math.randomseed(1000)
end

request = function()
  return requests_by_index[math.random(#requests_by_index)]
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"socket_errors":%d,"non2xx":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
