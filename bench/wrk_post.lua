-- wrk script for bench/harness.py: POST JSON bodies made from templates, each one unique.
--
--   wrk ... -s bench/wrk_post.lua URL -- TEMPLATES_FILE RUN_TAG
--
-- TEMPLATES_FILE holds one JSON body per line; every "@@N@@" in it is replaced by a tag unique to
-- the request (RUN_TAG-thread-counter), so a server that refuses duplicates accepts them all.
-- Templates are used in turn, so a file of four kinds interleaves them equally. done() prints one
-- line, "BENCH-RESULT {json}", with the answers by status code and latency percentiles in µs.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  templates = {}
  for line in io.lines(args[1]) do
    if #line > 0 then
      local pieces, start = {}, 1
      while true do
        local first, last = string.find(line, "@@N@@", start, true)
        if not first then
          table.insert(pieces, string.sub(line, start))
          break
        end
        table.insert(pieces, string.sub(line, start, first - 1))
        start = last + 1
      end
      table.insert(templates, pieces)
    end
  end
  tag = args[2] .. "-" .. id .. "-"
  sent = 0
  codes = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json"
end

function request()
  sent = sent + 1
  local pieces = templates[(sent - 1) % #templates + 1]
  return wrk.format(nil, nil, nil, table.concat(pieces, tag .. sent))
end

function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("codes") or {}) do
      total[status] = (total[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(total) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"socket_errors": %d, "codes": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    errors.connect + errors.read + errors.write + errors.timeout, table.concat(parts, ", ")))
end
