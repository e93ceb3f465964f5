-- wrk script for `make load` (scripts/test/load.sh): GET with a bearer token, until
-- LOAD_REQUESTS answers have come back (each of the LOAD_THREADS threads takes
-- its share), counting answers that are not 200. The token comes from the
-- environment (LOAD_TOKEN), never from the command line, and is never printed.
--
-- A thread that has its share stops, and appends a line to LOAD_DONE_FILE;
-- wrk itself only ends at -d or on SIGINT, which load.sh sends once every
-- thread has written its line. The time is taken here, from each thread's
-- start to its last answer, so the wait for that signal does not count.
--
-- Prints one line for load.sh to read:
--   load-result requests=N non200=N socket_errors=N seconds=S rps=R p50_ms=X p99_ms=Y max_ms=Z

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } load_timespec;
  int clock_gettime(int clock, load_timespec *now);
]]
local function seconds_now()
  local now = ffi.new("load_timespec")
  ffi.C.clock_gettime(1, now) -- CLOCK_MONOTONIC
  return tonumber(now.tv_sec) + tonumber(now.tv_nsec) / 1e9
end

local token = os.getenv("LOAD_TOKEN")
if token == nil or token == "" then
  io.stderr:write("load.lua: LOAD_TOKEN is not set\n")
  os.exit(2)
end
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. token

local total = tonumber(os.getenv("LOAD_REQUESTS") or "10000")
local threads = {}

-- Runs in the main thread, once per worker thread, before any request.
function setup(thread)
  table.insert(threads, thread)
end

-- The rest runs inside each worker thread, with state of its own: each stops
-- after its share of the answers (wrk's -t, passed again as LOAD_THREADS).
local quota = math.ceil(total / tonumber(os.getenv("LOAD_THREADS") or "1"))
local answers, non200 = 0, 0

function init(args)
  wrk.thread:set("started", seconds_now())
end

function response(status, headers, body)
  answers = answers + 1
  if status ~= 200 then
    non200 = non200 + 1
    if non200 <= 3 then
      io.stderr:write(string.format("load.lua: answer %d: status %d\n", answers, status))
    end
  end
  wrk.thread:set("answers", answers)
  wrk.thread:set("non200", non200)
  if answers >= quota then
    wrk.thread:set("finished", seconds_now())
    wrk.thread:stop()
    local done_file = io.open(os.getenv("LOAD_DONE_FILE"), "a")
    done_file:write("done\n")
    done_file:close()
  end
end

-- Runs in the main thread after every worker has stopped.
function done(summary, latency, requests)
  local answered, failed, first, last = 0, 0, nil, nil
  for _, thread in ipairs(threads) do
    answered = answered + (thread:get("answers") or 0)
    failed = failed + (thread:get("non200") or 0)
    local started, finished = thread:get("started"), thread:get("finished")
    if started and (first == nil or started < first) then first = started end
    if finished and (last == nil or finished > last) then last = finished end
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  local seconds = (first and last) and (last - first) or summary.duration / 1e6
  io.write(string.format(
    "load-result requests=%d non200=%d socket_errors=%d seconds=%.2f rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
    answered, failed, socket_errors, seconds, answered / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format(
    "load-errors connect=%d read=%d write=%d timeout=%d status>=400=%d\n",
    e.connect, e.read, e.write, e.timeout, e.status))
end
