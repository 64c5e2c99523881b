-- Shared by the wrk scripts: per-thread status counters and a done() that prints one JSON line.
-- Run wrk with as many threads as connections (-t N -c N): each thread then drives exactly one
-- connection, so a thread's Lua state is that connection's state (its case, its version).
local common = {}
local threads = {}

function common.setup(thread)
  table.insert(threads, thread)
  return #threads
end

function common.init_counters()
  ok, conflicts, failed = 0, 0, 0
end

function common.count(status, expected)
  if status == expected then
    ok = ok + 1
  elseif status == 409 then
    conflicts = conflicts + 1
  else
    failed = failed + 1
  end
end

function common.done(summary, latency, requests)
  local n_ok, n_conflicts, n_failed = 0, 0, 0
  for _, thread in ipairs(threads) do
    n_ok = n_ok + thread:get("ok")
    n_conflicts = n_conflicts + thread:get("conflicts")
    n_failed = n_failed + thread:get("failed")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"ok":%d,"conflicts":%d,"failed":%d,' ..
    '"socket_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p95_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, n_ok, n_conflicts, n_failed,
    e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
end

return common
