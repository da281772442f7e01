-- kiln.json: a small strict JSON (RFC 8259) decoder with line:column errors, and an
-- encoder for plain Lua data. Used by kiln.train for mlearn and FitSNAP data sets.
--
--   local json = require "kiln.json"
--   json.decode(text[, {name=, comments=false}]) -> value   (objects -> tables,
--        arrays -> lists, null -> json.null; raises "name:line:col: message")
--   json.read(file[, {comments=true}]) -> value   ('#' comment lines before the JSON
--        value are skipped when comments=true, as in FitSNAP's data files)
--   json.encode(value[, {indent=}]) -> string   (keys sorted; integers stay integers)

local M = {}

M.null = setmetatable({}, {__tostring = function() return "json.null" end})

local byte, sub, find, char = string.byte, string.sub, string.find, string.char

-- line and column (1-based) of byte position pos in s
local function linecol(s, pos)
  local line, last = 1, 0
  local i = 1
  while true do
    local j = find(s, "\n", i, true)
    if not j or j >= pos then break end
    line, last, i = line + 1, j, j + 1
  end
  return line, pos - last
end

local function decoder(s, name)
  local pos = 1
  local function fail(msg, at)
    local l, c = linecol(s, at or pos)
    error(string.format("%s:%d:%d: %s", name, l, c, msg), 0)
  end
  local function skip()
    local _, e = find(s, "^[ \t\r\n]*", pos)
    pos = e + 1
  end
  local function describe(at)
    local c = sub(s, at, at)
    if c == "" then return "end of input" end
    return "'" .. c .. "'"
  end
  local value

  local escapes = {['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n",
                   r = "\r", t = "\t"}
  local function utf8char(cp) return utf8.char(cp) end

  local function str()
    local start = pos
    pos = pos + 1   -- opening quote
    local parts = {}
    while true do
      local a, b = find(s, '^[^"\\%c]+', pos)
      if a then parts[#parts + 1] = sub(s, a, b); pos = b + 1 end
      local c = byte(s, pos)
      if c == nil then fail("unterminated string (opened here)", start) end
      if c == 34 then pos = pos + 1; break end
      if c < 32 then fail("control character in string (escape it)") end
      -- backslash
      local e = sub(s, pos + 1, pos + 1)
      if escapes[e] then
        parts[#parts + 1] = escapes[e]
        pos = pos + 2
      elseif e == "u" then
        local h = sub(s, pos + 2, pos + 5)
        if not h:match("^%x%x%x%x$") then fail("bad \\u escape (4 hex digits expected)") end
        local cp = tonumber(h, 16)
        pos = pos + 6
        if cp >= 0xD800 and cp <= 0xDBFF then
          local h2 = sub(s, pos, pos + 5)
          if h2:match("^\\u[dD][c-fC-F]%x%x$") then
            cp = 0x10000 + ((cp - 0xD800) << 10) + (tonumber(sub(h2, 3), 16) - 0xDC00)
            pos = pos + 6
          else
            fail("unpaired UTF-16 surrogate in \\u escape", pos - 6)
          end
        elseif cp >= 0xDC00 and cp <= 0xDFFF then
          fail("unpaired UTF-16 surrogate in \\u escape", pos - 6)
        end
        parts[#parts + 1] = utf8char(cp)
      else
        fail("bad escape '\\" .. e .. "' in string")
      end
    end
    return table.concat(parts)
  end

  local function num()
    local start = pos
    local p = pos
    if byte(s, p) == 45 then p = p + 1 end
    local c = byte(s, p)
    if c == 48 then p = p + 1
    elseif c and c >= 49 and c <= 57 then
      local _, e = find(s, "^%d+", p); p = e + 1
    else fail("bad number: digit expected after '-'", p) end
    if byte(s, p) == 46 then
      local _, e = find(s, "^%d+", p + 1)
      if not e then fail("bad number: digit expected after '.'", p + 1) end
      p = e + 1
    end
    c = byte(s, p)
    if c == 101 or c == 69 then
      p = p + 1
      c = byte(s, p)
      if c == 43 or c == 45 then p = p + 1 end
      local _, e = find(s, "^%d+", p)
      if not e then fail("bad number: digit expected in exponent", p) end
      p = e + 1
    end
    c = byte(s, p)
    if c and (c >= 48 and c <= 57 or c == 46) then
      fail("bad number '" .. sub(s, start, p) .. "' (leading zero or misplaced '.')", start)
    end
    local text = sub(s, start, p - 1)
    pos = p
    if text:find("[.eE]") then return tonumber(text) end
    return math.tointeger(tonumber(text)) or tonumber(text)
  end

  local function literal(word, v)
    if sub(s, pos, pos + #word - 1) ~= word then
      fail("unexpected " .. describe(pos) .. " (expected '" .. word .. "')")
    end
    pos = pos + #word
    return v
  end

  local depth = 0
  function value()
    skip()
    local c = byte(s, pos)
    if c == 123 then            -- {
      depth = depth + 1
      if depth > 512 then fail("nesting deeper than 512") end
      local t = {}
      pos = pos + 1
      skip()
      if byte(s, pos) == 125 then pos = pos + 1; depth = depth - 1; return t end
      while true do
        skip()
        if byte(s, pos) ~= 34 then fail("expected a string key, got " .. describe(pos)) end
        local kpos = pos
        local k = str()
        if t[k] ~= nil then fail("duplicate key '" .. k .. "'", kpos) end
        skip()
        if byte(s, pos) ~= 58 then fail("expected ':' after key '" .. k .. "', got " .. describe(pos)) end
        pos = pos + 1
        t[k] = value()
        skip()
        local d = byte(s, pos)
        if d == 44 then pos = pos + 1
        elseif d == 125 then pos = pos + 1; break
        else fail("expected ',' or '}' in object, got " .. describe(pos)) end
      end
      depth = depth - 1
      return t
    elseif c == 91 then         -- [
      depth = depth + 1
      if depth > 512 then fail("nesting deeper than 512") end
      local t, n = {}, 0
      pos = pos + 1
      skip()
      if byte(s, pos) == 93 then pos = pos + 1; depth = depth - 1; return t end
      while true do
        n = n + 1
        t[n] = value()
        skip()
        local d = byte(s, pos)
        if d == 44 then pos = pos + 1
        elseif d == 93 then pos = pos + 1; break
        else fail("expected ',' or ']' in array, got " .. describe(pos)) end
      end
      depth = depth - 1
      return t
    elseif c == 34 then return str()
    elseif c == 116 then return literal("true", true)
    elseif c == 102 then return literal("false", false)
    elseif c == 110 then return literal("null", M.null)
    elseif c == 45 or (c and c >= 48 and c <= 57) then return num()
    end
    fail("unexpected " .. describe(pos) .. " (a value was expected)")
  end

  return function(start)
    pos = start or 1
    local v = value()
    skip()
    if pos <= #s then fail("trailing " .. describe(pos) .. " after the JSON value") end
    return v
  end
end

local function check_opts(o, fname)
  if o == nil then return {} end
  if type(o) ~= "table" then error(fname .. ": options table expected", 3) end
  for k in pairs(o) do
    if k ~= "name" and k ~= "comments" and k ~= "indent" then
      error(fname .. ": unknown option '" .. tostring(k) .. "'", 3)
    end
  end
  return o
end

function M.decode(text, o)
  o = check_opts(o, "json.decode")
  if type(text) ~= "string" then
    error("json.decode: string expected (got " .. type(text) .. ")", 2)
  end
  local start = 1
  if o.comments then
    -- whole-line '#' comments before the value
    while true do
      local a, b = find(text, "^[ \t\r\n]*#[^\n]*\n?", start)
      if not a then break end
      start = b + 1
    end
  end
  local ok, v = pcall(decoder(text, o.name or "json"), start)
  if not ok then error(v, 2) end
  return v
end

function M.read(file, o)
  o = check_opts(o, "json.read")
  local f, err = io.open(file, "rb")
  if not f then error("json.read: cannot open " .. tostring(err), 2) end
  local text = f:read("a")
  f:close()
  local ok, v = pcall(M.decode, text, {name = file, comments = o.comments ~= false})
  if not ok then error(v, 2) end
  return v
end

---------------------------------------------------------------- encode
local function enc_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    local map = {['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t"}
    return map[c] or string.format("\\u%04x", byte(c))
  end) .. '"'
end

local function encode(v, indent, level, seen)
  local t = type(v)
  if v == M.null or v == nil then return "null"
  elseif t == "boolean" then return tostring(v)
  elseif t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    if math.type(v) == "integer" then return tostring(v) end
    return string.format("%.17g", v)
  elseif t == "string" then return enc_string(v)
  elseif t == "table" then
    if seen[v] then error("json.encode: cyclic table", 0) end
    seen[v] = true
    local nl = indent and ("\n" .. string.rep(indent, level + 1)) or ""
    local close = indent and ("\n" .. string.rep(indent, level)) or ""
    local sep = indent and ": " or ":"
    local out = {}
    local n = #v
    local isarray = n > 0 or next(v) == nil
    if isarray then
      for k in pairs(v) do
        if math.type(k) ~= "integer" or k < 1 or k > n then isarray = false; break end
      end
    end
    local r
    if isarray then
      for i = 1, n do out[i] = nl .. encode(v[i], indent, level + 1, seen) end
      r = "[" .. table.concat(out, ",") .. (n > 0 and close or "") .. "]"
    else
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = tostring(k) end
      table.sort(keys)
      for i, k in ipairs(keys) do
        local val = v[k]
        if val == nil then val = v[tonumber(k)] end
        out[i] = nl .. enc_string(k) .. sep .. encode(val, indent, level + 1, seen)
      end
      r = "{" .. table.concat(out, ",") .. close .. "}"
    end
    seen[v] = nil
    return r
  elseif t == "userdata" and v.totable then
    return encode(v:totable(), indent, level, seen)
  end
  error("json.encode: cannot encode a " .. t, 0)
end

function M.encode(v, o)
  o = check_opts(o, "json.encode")
  local indent = o.indent
  if type(indent) == "number" then indent = string.rep(" ", indent) end
  local ok, r = pcall(encode, v, indent, 0, {})
  if not ok then error(r, 2) end
  return r
end

return M
