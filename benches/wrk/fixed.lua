-- One fixed request, built once per thread (wrk's static mode), and a JSON
-- summary line for scripts/bench.sh.
--   wrk ... -s fixed.lua URL                  GET URL
--   wrk ... -s fixed.lua URL -- PATCH BODY    PATCH URL with BODY (JSON)
-- Extra headers (X-token, signature) come from wrk's -H.

init = function(args)
  if args[1] then
    wrk.method = args[1]
  end
  if args[2] then
    wrk.body = args[2]
    wrk.headers["Content-Type"] = "application/json"
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"socket_errors":%d,"non2xx":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
