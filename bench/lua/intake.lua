-- POST /api/v1/cases with the contract's example intake: one new case per request.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local common = require("common")

function setup(thread)
  common.setup(thread)
  thread:set("token", os.getenv("BENCH_TOKEN"))
end

function init(args)
  common.init_counters()
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}
  body = '{"victim":{"full_name":"Siti Rahayu","sex":"female","birth_date":"2003-04-12",' ..
    '"nationality":"ID","province_of_origin":"Nusa Tenggara Timur"},' ..
    '"referral":{"channel":"embassy","country_of_exploitation":"MM",' ..
    '"exploitation_types":["forced_criminality"]}}'
end

function request()
  return wrk.format("POST", "/api/v1/cases", headers, body)
end

function response(status, headers, body)
  common.count(status, 201)
end

done = common.done
