-- POST /api/v1/cases: one new case per request, each another person (a name, sex, birth date
-- and province drawn at random), as a real day's referrals are. With BENCH_ONE_PERSON=1 every
-- request is the contract's example victim: the duplicate check's worst case (each intake then
-- scores the up to 200 earlier identical victims its blocking keys find).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local common = require("common")

local given = {"Siti", "Dewi", "Ayu", "Rina", "Wulan", "Putri", "Sri", "Nur", "Indah", "Yuli",
  "Fitri", "Lestari", "Ani", "Ratna", "Maya", "Budi", "Agus", "Eko", "Joko", "Hendra", "Rudi",
  "Andi", "Yusuf", "Rahmat", "Dian", "Tuti", "Wati", "Mega", "Novi", "Evi"}
local family = {"Rahayu", "Lestari", "Susanti", "Handayani", "Wahyuni", "Sari", "Pratiwi",
  "Kurniawan", "Setiawan", "Hidayat", "Saputra", "Nugroho", "Siregar", "Simanjuntak",
  "Harahap", "Manurung", "Tanjung", "Nasution", "Lubis", "Pohan", "Daulay", "Ndun", "Bria",
  "Manek", "Seran", "Tefa", "Bani", "Nenobais", "Taolin", "Atok"}
local provinces = {"Nusa Tenggara Timur", "Nusa Tenggara Barat", "Jawa Barat", "Jawa Tengah",
  "Jawa Timur", "Lampung", "Sumatera Utara", "Kalimantan Barat", "Sulawesi Selatan", "Bali"}
local channels = {"embassy", "police", "ngo", "hotline_sapa_129", "immigration"}
local countries = {"MY", "SA", "KH", "MM", "AE", "HK", "TW"}
local kinds = {"forced_labour", "forced_criminality", "sexual", "domestic_servitude"}

function setup(thread)
  local id = common.setup(thread)
  thread:set("token", os.getenv("BENCH_TOKEN"))
  thread:set("seed", id * 7919 + os.time())
end

local function pick(list)
  return list[math.random(#list)]
end

function init(args)
  common.init_counters()
  math.randomseed(seed)
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}
  one_person = os.getenv("BENCH_ONE_PERSON") == "1"
end

local function body()
  if one_person then
    return '{"victim":{"full_name":"Siti Rahayu","sex":"female","birth_date":"2003-04-12",' ..
      '"nationality":"ID","province_of_origin":"Nusa Tenggara Timur"},' ..
      '"referral":{"channel":"embassy","country_of_exploitation":"MM",' ..
      '"exploitation_types":["forced_criminality"]}}'
  end
  local sex = math.random(3) == 1 and "male" or "female"
  return string.format(
    '{"victim":{"full_name":"%s %s %s","sex":"%s","birth_date":"%04d-%02d-%02d",' ..
    '"nationality":"ID","province_of_origin":"%s"},' ..
    '"referral":{"channel":"%s","country_of_exploitation":"%s","exploitation_types":["%s"]}}',
    pick(given), pick(given), pick(family), sex, math.random(1965, 2008), math.random(12),
    math.random(28), pick(provinces), pick(channels), pick(countries), pick(kinds))
end

function request()
  return wrk.format("POST", "/api/v1/cases", headers, body())
end

function response(status, headers, body)
  common.count(status, 201)
end

done = common.done
