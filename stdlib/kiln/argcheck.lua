-- kiln.argcheck: argument checks shared by the pure-Lua modules (kiln.ins,
-- kiln.instruments, ...): errors that blame the user's line, and number lists
-- from numbers, Lua lists or kiln.Arrays.
local carray = require "kiln.c.array"

local M = {}
local internal = {[debug.getinfo(1, "S").source] = true}

-- Register the calling file as internal: fail() skips its frames when it looks for
-- the user's line.
function M.internal()
  internal[debug.getinfo(2, "S").source] = true
end

-- Raise "fname: msg" at the first caller outside the registered files.
function M.fail(fname, msg)
  local level = 2
  while true do
    local info = debug.getinfo(level, "S")
    if not info or not internal[info.source] then break end
    level = level + 1
  end
  error(fname .. ": " .. msg, level)
end

function M.is_array(x) return getmetatable(x) == carray.metatable end

-- An options table o (nil: {}) whose keys must all be in the list allowed; else
-- "fname: unknown option 'k' (options: ...)" at the user's line. what names the table.
function M.check_keys(fname, o, allowed, what)
  if o == nil then return {} end
  if type(o) ~= "table" or M.is_array(o) then
    M.fail(fname, (what or "options") .. " table expected (got " ..
                  (M.is_array(o) and "a kiln.Array" or type(o)) .. ")")
  end
  local set = {}
  for _, k in ipairs(allowed) do set[k] = true end
  for k in pairs(o) do
    if not set[k] then
      M.fail(fname, string.format("unknown option '%s' (options: %s)", tostring(k),
                                  table.concat(allowed, ", ")))
    end
  end
  return o
end

-- A list of numbers from a number, a Lua list (or list of 1-element rows) or an n x 1
-- kiln.Array; the second result is true when x was a number.
function M.list_of(x, fname, what)
  if type(x) == "number" then return {x}, true end
  if M.is_array(x) then x = x:totable() end
  if type(x) ~= "table" then
    M.fail(fname, string.format("%s must be a number or a list of numbers (got %s)", what, type(x)))
  end
  local out = {}
  for i = 1, #x do
    local v = x[i]
    if type(v) == "table" then v = v[1] end
    if type(v) ~= "number" then
      M.fail(fname, string.format("%s[%d] is not a number (got %s)", what, i, type(v)))
    end
    out[i] = v
  end
  return out, false
end

return M
