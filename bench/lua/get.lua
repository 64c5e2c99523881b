-- GET $BENCH_PATH (a queue page, with its cursor if any) again and again.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local common = require("common")

function setup(thread)
  common.setup(thread)
  thread:set("token", os.getenv("BENCH_TOKEN"))
  thread:set("target", os.getenv("BENCH_PATH"))
end

function init(args)
  common.init_counters()
  headers = {["Authorization"] = "Bearer " .. token}
end

function request()
  return wrk.format("GET", target, headers)
end

function response(status, headers, body)
  common.count(status, 200)
end

done = common.done
