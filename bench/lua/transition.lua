-- POST /api/v1/cases/{id}/transitions, the legal-track record_police_report: the case stays in
-- its state and its version grows by one each time. Each thread (= connection) works on its own
-- case (line N of $BENCH_CASES: "<case id> <version>") and carries the version from the answer.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local common = require("common")
local cases = nil

function setup(thread)
  if cases == nil then
    cases = {}
    for line in io.lines(os.getenv("BENCH_CASES")) do
      local id, version = line:match("^(%S+) (%d+)$")
      table.insert(cases, {id = id, version = version})
    end
  end
  local n = common.setup(thread)
  local case = cases[(n - 1) % #cases + 1]
  thread:set("case_id", case.id)
  thread:set("version", case.version)
  thread:set("token", os.getenv("BENCH_TOKEN"))
end

function init(args)
  common.init_counters()
  version = tonumber(version)
  path = "/api/v1/cases/" .. case_id .. "/transitions"
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}
end

function request()
  local body = string.format(
    '{"trigger":"record_police_report","expected_version":%d,' ..
    '"payload":{"report_number":"LP/1/2026","filed_on":"2026-01-02"}}', version)
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  common.count(status, 200)
  -- 200: the case; 409: "... the case is at version N ...": either way, carry the version on
  local found = body:match('"version":(%d+)') or body:match("is at version (%d+)")
  if found then
    version = tonumber(found)
  end
end

done = common.done
