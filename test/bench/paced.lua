-- Open-loop pacing on top of post.lua: each wrk thread sends on a fixed schedule of
-- BENCH_RATE / BENCH_THREADS requests per second. delay() is called by whichever of the thread's
-- connections is free; it claims the next slot on the schedule and sleeps until that slot, so
-- sends are evenly spaced instead of bursty, and a slow response does not lower the offered rate
-- (another idle connection takes the next slot). Slots already in the past count as late sends.

dofile(os.getenv("BENCH_LUA_DIR") .. "/post.lua")

local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local CLOCK_MONOTONIC = 1

-- os.time() has 1 s resolution, so a monotonic clock comes from libc through LuaJIT's FFI.
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local thread_rate = tonumber(os.getenv("BENCH_RATE")) / tonumber(os.getenv("BENCH_THREADS"))
local interval_ms = 1000 / thread_rate
local next_slot = nil

-- Globals (not locals) so done() can read them through thread:get().
slots = 0
late_sends = 0
max_late_ms = 0
responses = 0
first_response_ms = 0
last_response_ms = 0

function delay()
  local now = now_ms()
  if next_slot == nil then
    -- Offset each thread by a fraction of the interval so the threads' sends interleave.
    local n = tonumber(os.getenv("BENCH_THREADS"))
    next_slot = now + interval_ms * ((thread_index or 0) / n)
  end
  local slot = next_slot
  next_slot = slot + interval_ms
  slots = slots + 1
  local wait = slot - now
  -- wrk's timers have 1 ms granularity: only more than 1 ms behind schedule counts as late.
  if wait < -1 then
    late_sends = late_sends + 1
    if -wait > max_late_ms then max_late_ms = -wait end
  end
  if wait <= 0 then return 0 end
  return math.floor(wait + 0.5)
end

-- Timestamps of responses, for the achieved rate reported by done().
function response(status, headers, body)
  local now = now_ms()
  if responses == 0 then first_response_ms = now end
  last_response_ms = now
  responses = responses + 1
end
