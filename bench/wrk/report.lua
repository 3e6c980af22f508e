-- faultline bench: optional pipelining (depth from the first script argument,
-- as in wrk's own pipeline.lua) and one JSON summary line the bench parses.
local depth = 1
local batch

function init(args)
  depth = tonumber(args[1]) or 1
  if depth > 1 then
    local r = {}
    for i = 1, depth do r[i] = wrk.format() end
    batch = table.concat(r)
    -- Only a pipelined run defines request(): without it wrk sends its static request, its fastest path.
    request = function() return batch end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'JSON {"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean))
end
