-- tests/lua/run.lua: runs every tests/lua/test_*.lua (or the files given as
-- arguments), each in a fresh global environment, and prints one line per test
-- case: "PASS test_x.lua:<name>" or "FAIL test_x.lua:<name>: <message>".
-- Usage: bin/kiln tests/lua/run.lua [test_file.lua ...]   (cwd = repo root)
--
-- A test file registers cases with test(name, fn) and may use:
--   checkerror(pattern, f, ...)   f(...) must raise an error whose message
--                                 contains pattern (plain text, not a Lua pattern)
--   close(a, b, rel[, abs])       |a-b| <= abs or |a-b| <= rel*max(|a|,|b|), else raise
--   skip(reason)                  inside a case: report SKIP instead of PASS
--   tmpname(suffix)               a scratch file name under tests/out/ (removed at the end)

local dir = "tests/lua"
local outdir = "tests/out"
os.execute("mkdir -p " .. outdir)

local files = {}
if arg and #arg > 0 then
  for i = 1, #arg do files[#files + 1] = arg[i] end
else
  local p = io.popen("ls " .. dir .. "/test_*.lua 2>/dev/null")
  for line in p:lines() do files[#files + 1] = line end
  p:close()
end
table.sort(files)

local npass, nfail, nskip = 0, 0, 0
local scratch = {}

local SKIP = {}

local function basename(f) return (f:gsub("^.*/", "")) end

local function checkerror(pattern, f, ...)
  local ok, msg = pcall(f, ...)
  if ok then error("expected an error matching '" .. pattern .. "', but the call succeeded", 2) end
  msg = tostring(msg)
  if not msg:find(pattern, 1, true) then
    error("expected an error containing '" .. pattern .. "', got: " .. msg, 2)
  end
  return msg
end

local function close(a, b, rel, abs)
  abs = abs or 0
  local d = math.abs(a - b)
  local m = math.max(math.abs(a), math.abs(b))
  if not (d <= abs or d <= rel * m) then
    error(string.format("%.17g vs %.17g (diff %.3g, rel %.3g, abs %.3g)", a, b, d, rel, abs), 2)
  end
  return true
end

local function skip(reason) error(setmetatable({reason = reason}, SKIP), 0) end

local function tmpname(suffix)
  local name = string.format("%s/lua_%d_%d%s", outdir, #scratch + 1, math.random(1e6),
                             suffix or "")
  scratch[#scratch + 1] = name
  return name
end

for _, file in ipairs(files) do
  local cases = {}
  local env = setmetatable({
    test = function(name, fn) cases[#cases + 1] = {name = name, fn = fn} end,
    checkerror = checkerror,
    close = close,
    skip = skip,
    tmpname = tmpname,
  }, {__index = _G})
  env._ENV = env
  local chunk, err = loadfile(file, "t", env)
  local label = basename(file)
  if chunk then
    local ok, e = xpcall(chunk, debug.traceback)
    if not ok then chunk, err = nil, e end
  end
  if not chunk then
    print("FAIL " .. label .. ":(load): " .. tostring(err))
    nfail = nfail + 1
  else
    for _, c in ipairs(cases) do
      local ok, e = xpcall(c.fn, function(m)
        if getmetatable(m) == SKIP then return m end
        return debug.traceback(tostring(m), 2)
      end)
      collectgarbage()
      if ok then
        print("PASS " .. label .. ":" .. c.name)
        npass = npass + 1
      elseif getmetatable(e) == SKIP then
        print("SKIP " .. label .. ":" .. c.name .. ": " .. e.reason)
        nskip = nskip + 1
      else
        print("FAIL " .. label .. ":" .. c.name .. ": " .. tostring(e))
        nfail = nfail + 1
      end
      io.stdout:flush()
    end
  end
end

collectgarbage()
for _, f in ipairs(scratch) do os.remove(f) end
print(string.format("lua tests: %d passed, %d failed, %d skipped", npass, nfail, nskip))
os.exit(nfail == 0 and 0 or 1, true)  -- close the state: finalizers run (leak checks)
