-- kiln.strict: catch typos in global variable names.
--   require("kiln.strict").enable()       -- for _G (or pass an environment table)
-- Reading an undefined global raises "undefined variable 'x'". Assigning a new
-- global is allowed only from a main chunk or C (so a script can still define its
-- globals at top level); inside functions use strict.global("name", value).
local strict = {}

local function what_level(level)
  local info = debug.getinfo(level, "S")
  return info and info.what or "C"
end

function strict.enable(env)
  env = env or _G
  local mt = getmetatable(env)
  if mt == nil then
    mt = {}
    setmetatable(env, mt)
  end
  mt.__kiln_strict = true
  mt.__index = function(_, k)
    error("undefined variable '" .. tostring(k) .. "'", 2)
  end
  mt.__newindex = function(t, k, v)
    local w = what_level(3)
    if w ~= "main" and w ~= "C" then
      error("assignment to undeclared variable '" .. tostring(k) ..
            "' (declare it at top level or use strict.global)", 2)
    end
    rawset(t, k, v)
  end
  return env
end

function strict.disable(env)
  env = env or _G
  local mt = getmetatable(env)
  if mt and mt.__kiln_strict then
    mt.__index, mt.__newindex, mt.__kiln_strict = nil, nil, nil
  end
  return env
end

-- declare (and set) a global from anywhere
function strict.global(name, value, env)
  rawset(env or _G, name, value)
  return value
end

strict.__help = [[
kiln.strict: undefined-variable checks for globals.
  require("kiln.strict").enable([env])    reading an undefined global raises
                                          "undefined variable 'x'"
  strict.disable([env])   strict.global(name, value[, env])]]

return strict
