-- wrk script for all paths: the POST body and Authorization header come from the environment
-- (BENCH_BODY, BENCH_AUTH; an empty BENCH_AUTH sends none) so one script serves every path.
-- BENCH_HEADERS adds "Name: value" lines (a provider's own auth header, a SigV4 signature).
-- done() prints one machine-readable line: "BENCH_JSON {...}" (latencies in microseconds).

wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("BENCH_AUTH")
if auth ~= nil and auth ~= "" then wrk.headers["Authorization"] = auth end
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end

local threads = {}

function setup(thread)
  -- Threads get an index so a pacing script can stagger their schedules.
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  -- Pacing counters live in each thread's own Lua state; sum them here (0 when not paced).
  local slots, late, max_late, achieved = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    slots = slots + (t:get("slots") or 0)
    late = late + (t:get("late_sends") or 0)
    max_late = math.max(max_late, t:get("max_late_ms") or 0)
    -- Each thread's rate between its first and last response: unlike requests / duration this
    -- is not skewed by wrk's start-up and its up-to-100 ms stop latency.
    local n, first, last = t:get("responses") or 0, t:get("first_response_ms") or 0, t:get("last_response_ms") or 0
    if n > 1 and last > first then achieved = achieved + (n - 1) * 1000 / (last - first) end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%.1f,"p90":%.1f,"p99":%.1f,"max":%.1f,"mean":%.1f},' ..
    '"pacing":{"slots":%d,"late_sends":%d,"max_late_ms":%.3f,"achieved_rps":%.3f}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    slots, late, max_late, achieved))
end
