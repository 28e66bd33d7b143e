-- wrk script: POST a new API server (unique resourceUrl) per request; counts non-201 answers.
-- args: path token|- prefix
local counter = 0
local path, prefix
local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end

function init(args)
  path = args[1]
  prefix = args[3]
  bad = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json"
  wrk.headers["User-Agent"] = "registrar-bench/1.0"
  if args[2] ~= "-" then
    wrk.headers["Authorization"] = "SSWS " .. args[2]
  end
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"resourceUrl":"https://%s-%d-%d.bench.example/api","metadata":{"displayName":"Bench API %d","description":"written by bench_writes"}}',
    prefix, tid, counter, counter)
  return wrk.format("POST", path, nil, body)
end

function response(status, headers, body)
  if status ~= 201 then
    bad = bad + 1
    if bad <= 3 then io.stderr:write("unexpected status " .. status .. ": " .. body:sub(1, 300) .. "\n") end
  end
end
