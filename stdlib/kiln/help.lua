-- kiln.help: help() on modules, objects, functions and styles.
--
--   help()                      overview: modules, types, styles
--   help(kiln.crystal)          a module: its text and its functions
--   help(kiln.potential.sw)     a style constructor: the style record
--                               (name, description, citation, options)
--   help(pot), help(atoms)      an object: its type, style and methods
--   help(kiln.io.read)          a function: its documentation
--   help "md:run", help "sw"    by name (dotted path, Type:method or style name)
--
-- Documentation comes from, in order: texts registered with help.register(value,
-- text), the `__help` strings the binding sets on module and method tables,
-- and the table in kiln.docs (keyed by dotted path). help() never raises: for
-- anything it cannot explain it prints "no help for <thing>".
-- help.text(x) returns the text instead of printing it.

local M = {}

local registered = setmetatable({}, {__mode = "k"})   -- value -> text, by identity

--- Attach documentation to a value (a function, table or userdata). Returns value.
function M.register(value, text)
  if value ~= nil and type(text) == "string" then registered[value] = text end
  return value
end

local function load_docs()
  local ok, d = pcall(require, "kiln.docs")
  return (ok and type(d) == "table") and d or {}
end

local function get_kiln()
  local k = package.loaded["kiln"]
  if type(k) ~= "table" then
    local ok, r = pcall(require, "kiln")
    k = ok and r or nil
  end
  return type(k) == "table" and k or nil
end

local function safe_index(t, k)
  local ok, v = pcall(function() return t[k] end)
  if ok then return v end
  return nil
end

local function firstline(s)
  if type(s) ~= "string" then return nil end
  return (s:match("^%s*([^\n]*)"))
end

-- A one-line summary of a module text: its first sentence, without a leading
-- "kiln.name:" label, at most about 70 characters.
local function summary_of(text, label)
  if type(text) ~= "string" then return nil end
  local para = text:match("^%s*(.-)\n%s*\n") or text
  local lines = {}
  for l in para:gmatch("[^\n]+") do
    if #lines > 0 and l:match("^%s") then break end
    lines[#lines + 1] = l:match("^%s*(.-)%s*$")
  end
  local s = table.concat(lines, " ")
  if label and s:sub(1, #label + 1) == label .. ":" then s = s:sub(#label + 2):match("^%s*(.*)$") end
  s = s:match("^(.-)[.;]%s") or s:match("^(.-)[.;]$") or s
  if #s > 72 and s:find(" (", 1, true) then s = s:sub(1, s:find(" (", 1, true) - 1) end
  if #s > 72 then s = s:sub(1, 69):gsub("%s+%S*$", "") .. "..." end
  return s
end

local function sorted_keys(t, pred)
  local out = {}
  for k, v in pairs(t) do
    if type(k) == "string" and (not pred or pred(k, v)) then out[#out + 1] = k end
  end
  table.sort(out)
  return out
end

local function is_callable(v)
  if type(v) == "function" then return true end
  local mt = debug.getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__call") ~= nil
end

-- The metatable of an object and its method table (binding convention:
-- metatable.methods, else a table __index).
local function methods_of(mt)
  if type(mt) ~= "table" then return nil end
  local m = rawget(mt, "methods")
  if type(m) == "table" then return m end
  local idx = rawget(mt, "__index")
  if type(idx) == "table" then return idx end
  return nil
end

local function type_name(v)
  local mt = debug.getmetatable(v)
  if type(mt) == "table" then
    local n = rawget(mt, "__name")
    if type(n) == "string" then return n, mt end
  end
  return nil, mt
end

-- Resolve "kiln.a.b" or "kiln.Type:method" to a value (nil if absent).
local function resolve(path, kiln)
  if type(path) ~= "string" then return nil end
  local tname, meth = path:match("^([%w_.]+):([%w_]+)$")
  if tname then
    local mt = debug.getregistry()[tname]
    local methods = methods_of(mt)
    return methods and rawget(methods, meth) or nil
  end
  local head, rest = path:match("^([%w_]+)%.?(.*)$")
  if head ~= "kiln" or not kiln then return nil end
  local v, first = kiln, true
  for name in rest:gmatch("[^.]+") do
    if type(v) ~= "table" and type(v) ~= "userdata" then return nil end
    local nv = safe_index(v, name)
    if nv == nil and first then nv = package.loaded["kiln." .. name] end  -- require "kiln.plot"
    if nv == nil then return nil end
    v, first = nv, false
  end
  return v
end

-- What we know about the kiln tree right now: dotted names by identity, style
-- records by constructor, documentation by identity, module names.
local function survey()
  local docs = load_docs()
  local kiln = get_kiln()
  local S = {docs = docs, kiln = kiln, names = {}, styles = {}, doc = {}, modules = {},
             stylelists = {}}
  if not kiln then return S end
  S.names[kiln] = "kiln"
  S.classes = {}                                       -- method table -> type name
  for k, v in pairs(debug.getregistry()) do
    if type(k) == "string" and k:match("^kiln%.") and type(v) == "table" then
      local m = methods_of(v)
      if m then S.classes[m] = k end
    end
  end
  local modnames, seen = {}, {}
  for k, v in pairs(kiln) do
    if type(k) == "string" and type(v) == "table" and not type_name(v) and not S.classes[v]
       and not k:match("^_") then
      modnames[#modnames + 1] = k; seen[k] = true
    end
  end
  S.loaded = {}                                        -- require "kiln.x" modules
  for _, entry in ipairs(docs.modules or {}) do
    local name = entry[1]
    if not seen[name] then
      if type(safe_index(kiln, name)) == "table" then
        modnames[#modnames + 1] = name; seen[name] = true
      elseif type(package.loaded["kiln." .. name]) == "table" then
        S.loaded[name] = package.loaded["kiln." .. name]
      end
    end
  end
  table.sort(modnames)
  S.modules = modnames
  for name, mod in pairs(S.loaded) do
    local path = "kiln." .. name
    S.names[mod] = path
    for k, v in pairs(mod) do
      if type(k) == "string" and S.names[v] == nil and type(v) == "function" then
        S.names[v] = path .. "." .. k
      end
    end
  end
  for k, v in pairs(kiln) do
    if type(k) == "string" and S.names[v] == nil and (type(v) == "function" or type(v) == "table") then
      S.names[v] = "kiln." .. k
    end
  end
  for m, tname in pairs(S.classes) do                  -- Type:method names
    for k, v in pairs(m) do
      if type(k) == "string" and type(v) == "function" and S.names[v] == nil then
        S.names[v] = tname .. ":" .. k
      end
    end
  end
  for _, name in ipairs(modnames) do
    local mod = safe_index(kiln, name)
    local path = "kiln." .. name
    S.names[mod] = path
    for k, v in pairs(mod) do
      if type(k) == "string" and S.names[v] == nil and (type(v) == "function" or type(v) == "table") then
        S.names[v] = path .. "." .. k
      end
    end
    local sf = rawget(mod, "styles")
    if type(sf) == "function" then
      local ok, list = pcall(sf)
      if ok and type(list) == "table" then
        local recs = {}
        for key, rec in pairs(list) do
          if type(rec) == "table" then
            local sname = rec.name or (type(key) == "string" and key) or nil
            if type(sname) == "string" then
              rec.name = sname
              rec.module = path
              recs[#recs + 1] = rec
              local ctor = safe_index(mod, sname)
              if ctor == nil then ctor = safe_index(mod, (sname:gsub("/", "_"))) end
              if ctor ~= nil then S.styles[ctor] = rec; S.names[ctor] = S.names[ctor] or path .. "." .. sname end
            end
          end
        end
        table.sort(recs, function(a, b) return a.name < b.name end)
        S.stylelists[path] = recs
      end
    end
  end
  for path, text in pairs(docs) do
    if type(path) == "string" and type(text) == "string" then
      local v = resolve(path, kiln)
      if v ~= nil and (type(v) == "function" or type(v) == "table" or type(v) == "userdata") then
        S.doc[v] = S.doc[v] or text
        if path:find(":") then S.names[v] = S.names[v] or path end
      end
    end
  end
  return S
end

local function doc_for(S, v, path)
  return registered[v] or (path and S.docs[path]) or S.doc[v]
end

-- Style records can carry options as one string (one option per line) or a list.
-- Append heading and then lines (each after indent) to out, when there are lines.
local function add_section(out, heading, lines, indent)
  if #lines == 0 then return end
  out[#out + 1] = heading
  for _, l in ipairs(lines) do out[#out + 1] = (indent or "") .. l end
end

-- Append "  name  text" rows with the texts in one aligned column (nil: the name alone).
local function add_aligned(out, names, texts)
  local width = 0
  for _, n in ipairs(names) do width = math.max(width, #n) end
  for i, n in ipairs(names) do
    out[#out + 1] = "  " .. n .. (texts[i] and (string.rep(" ", width - #n + 2) .. texts[i]) or "")
  end
end

local function option_lines(opts)
  local out = {}
  if type(opts) == "string" then
    for line in opts:gmatch("[^\n]+") do out[#out + 1] = line end
  elseif type(opts) == "table" then
    for i, o in ipairs(opts) do out[i] = tostring(o) end
    for _, k in ipairs(sorted_keys(opts)) do out[#out + 1] = k .. "=" .. tostring(opts[k]) end
  end
  return out
end

local function render_style(S, rec, ctorname)
  local out = {}
  local name = ctorname or ((rec.module or "") .. "." .. rec.name)
  local desc = rec.description
  out[#out + 1] = name .. ((desc and desc ~= "") and (" - " .. desc) or "")
  local flags = {}
  for _, f in ipairs({"manybody", "peratom", "full_list", "composite"}) do
    if rec[f] == true then flags[#flags + 1] = f end
  end
  out[#out + 1] = "  style:    " .. rec.name .. (rec.kind and (" (" .. rec.kind ..
                  (#flags > 0 and ("; " .. table.concat(flags, ", ")) or "") .. ")") or "")
  if rec.citation and rec.citation ~= "" then out[#out + 1] = "  citation: " .. rec.citation end
  add_section(out, "  options:", option_lines(rec.options), "    ")
  local extra = S.docs[name]
  if extra then out[#out + 1] = ""; out[#out + 1] = extra end
  out[#out + 1] = "  usage:    " .. name .. "{...}   (one table of named options)"
  return table.concat(out, "\n")
end

-- Callable fields of a table: one line each ("name  summary") when some
-- have documentation, else the names wrapped into a few lines.
local function list_functions(S, t, path, sep, out, exclude, compact)
  local names = sorted_keys(t, function(k, v)
    return not k:match("^_") and is_callable(v) and not (exclude and exclude[k])
  end)
  if #names == 0 then return end
  local docs, any = {}, false
  for i, n in ipairs(names) do
    local v = rawget(t, n)
    if v == nil then v = safe_index(t, n) end
    local d = firstline(doc_for(S, v, path .. sep .. n))
    if not d and S.styles[v] then d = firstline(S.styles[v].description) end
    if not d and type(v) == "table" then d = firstline(rawget(v, "__help")) end
    docs[i] = d
    any = any or d ~= nil
  end
  if any and not compact then return add_aligned(out, names, docs) end
  local line = " "
  for _, n in ipairs(names) do
    if #line + #n + 1 > 78 then out[#out + 1] = line; line = " " end
    line = line .. " " .. n
  end
  out[#out + 1] = line
end

local function render_module(S, mod, path)
  local out = {}
  local text = registered[mod] or rawget(mod, "__help") or S.docs[path]
  if type(text) ~= "string" then out[#out + 1] = path
  elseif text:sub(1, #path) == path then out[#out + 1] = text
  else out[#out + 1] = path .. " - " .. text end
  local recs = S.stylelists[path]
  local isstyle = {}
  for _, r in ipairs(recs or {}) do isstyle[r.name] = true; isstyle[(r.name:gsub("[/%-]", "_"))] = true end
  local fns = {}
  list_functions(S, mod, path, ".", fns, isstyle)
  if recs and #recs > 0 then
    out[#out + 1] = "Styles (help(" .. path .. ".<name>) for options):"
    local names, descs = {}, {}
    for i, r in ipairs(recs) do names[i], descs[i] = r.name, r.description or "" end
    add_aligned(out, names, descs)
  end
  add_section(out, "Functions:", fns)
  local sub = sorted_keys(mod, function(k, v) return type(v) == "table" and not k:match("^_")
                                              and not is_callable(v) and not type_name(v) end)
  if #sub > 0 then out[#out + 1] = "Tables: " .. table.concat(sub, ", ") end
  return table.concat(out, "\n")
end

local function style_record_of(S, obj, tname)
  local style = safe_index(obj, "style")
  if type(style) ~= "string" then return nil end
  local want = (tname == "kiln.Potential" and "kiln.potential") or
               ((tname == "kiln.Integrator" or tname == "kiln.MD") and "kiln.md") or nil
  for path, recs in pairs(S.stylelists) do
    if want == nil or path == want then
      for _, r in ipairs(recs) do if r.name == style then return r end end
    end
  end
  return nil
end

local function render_object(S, obj, tname, mt)
  local out = {}
  local ok, s = pcall(tostring, obj)
  out[#out + 1] = (ok and s or tname) .. "  (a " .. tname .. ")"
  local methods = methods_of(mt)
  local text = registered[mt] or (methods and rawget(methods, "__help")) or rawget(mt, "__help")
              or S.docs[tname]
  if text then out[#out + 1] = text end
  local rec = style_record_of(S, obj, tname)
  if rec then
    out[#out + 1] = ""
    out[#out + 1] = render_style(S, rec)
  end
  if methods then
    local fns = {}
    list_functions(S, methods, tname, ":", fns, nil, text ~= nil)
    add_section(out, "Methods (obj:name(...)):", fns)
  end
  return table.concat(out, "\n")
end

local function render_class(S, methods, tname)
  local out = {}
  local text = registered[methods] or rawget(methods, "__help") or S.docs[tname]
  out[#out + 1] = text and text or (tname .. " (a type)")
  local fns = {}
  list_functions(S, methods, tname, ":", fns, nil, text ~= nil)
  add_section(out, "Methods (obj:name(...)):", fns)
  return table.concat(out, "\n")
end

-- The name of a Lua standard library function ("print", "string.format").
local function builtin_name(f)
  for k, v in pairs(_G) do
    if v == f and type(k) == "string" then return k end
  end
  for _, lib in ipairs({"string", "table", "math", "io", "os", "coroutine", "utf8", "debug", "package"}) do
    local t = rawget(_G, lib)
    if type(t) == "table" then
      for k, v in pairs(t) do
        if v == f and type(k) == "string" then return lib .. "." .. k end
      end
    end
  end
  return nil
end

local function render_function(S, f, name)
  local d = doc_for(S, f, name)
  local out = {}
  local sig = name or builtin_name(f) or "function"
  local info = debug.getinfo(f, "Su")
  if d then return sig .. "\n" .. d end
  if info and info.what ~= "C" then
    local params = {}
    for i = 1, info.nparams do params[i] = debug.getlocal(f, i) or "?" end
    if info.isvararg then params[#params + 1] = "..." end
    sig = sig .. "(" .. table.concat(params, ", ") .. ")"
  end
  out[#out + 1] = sig
  if d then out[#out + 1] = d
  elseif info and info.what ~= "C" then
    out[#out + 1] = "(no documentation; defined at " .. info.short_src .. ":" .. info.linedefined .. ")"
  elseif builtin_name(f) then
    out[#out + 1] = "(a Lua standard function; see the Lua 5.4 reference manual)"
  else
    out[#out + 1] = "(no documentation)"
  end
  return table.concat(out, "\n")
end

local function overview(S)
  local out = {}
  local kiln = S.kiln
  local version = kiln and (rawget(kiln, "version") or rawget(kiln, "VERSION"))
  out[#out + 1] = "kiln" .. (version and (" " .. tostring(version)) or "") ..
                  " - atomistic simulation: structures, potentials, MD, spectra"
  if not kiln then
    out[#out + 1] = "(the kiln module could not be loaded; check package.path / KILN_PATH)"
    return table.concat(out, "\n")
  end
  local summary = {}
  for _, e in ipairs(S.docs.modules or {}) do summary[e[1]] = e[2] end
  out[#out + 1] = "Modules (help(kiln.<name>) for details):"
  local descs = {}
  for i, m in ipairs(S.modules) do
    local mod = safe_index(kiln, m)
    descs[i] = summary[m] or summary_of(type(mod) == "table" and rawget(mod, "__help"), "kiln." .. m)
               or summary_of(S.docs["kiln." .. m], "kiln." .. m)
  end
  add_aligned(out, S.modules, descs)
  local extra = {}
  for _, e in ipairs(S.docs.modules or {}) do
    local name = e[1]
    local found = false
    for _, m in ipairs(S.modules) do found = found or m == name end
    if not found and package.searchpath("kiln." .. name, package.path) then
      extra[#extra + 1] = string.format('  require "kiln.%s"  %s', name, e[2] or "")
    end
  end
  add_section(out, "More modules:", extra)
  local types = {}
  for k, v in pairs(debug.getregistry()) do
    if type(k) == "string" and k:match("^kiln%.%u") and type(v) == "table" then types[#types + 1] = k end
  end
  table.sort(types)
  if #types > 0 then out[#out + 1] = "Types (help(obj) on any object): " .. table.concat(types, ", ") end
  for _, path in ipairs(sorted_keys(S.stylelists)) do
    local names = {}
    for _, r in ipairs(S.stylelists[path]) do names[#names + 1] = r.name end
    if #names > 0 then out[#out + 1] = "Styles in " .. path .. ": " .. table.concat(names, ", ") end
  end
  out[#out + 1] = 'Examples: help(kiln.crystal)  help(kiln.potential.lj)  help(atoms)  help "Atoms:positions"'
  return table.concat(out, "\n")
end

local function by_name(S, name)
  local kiln = S.kiln
  local candidates = {name}
  if not name:match("^kiln[.:]") and name ~= "kiln" then
    candidates[#candidates + 1] = "kiln." .. name
  end
  local tname, meth = name:match("^([%w_.]+):([%w_]+)$")
  if tname and not tname:match("^kiln%.") then
    candidates[#candidates + 1] = "kiln." .. tname:sub(1, 1):upper() .. tname:sub(2) .. ":" .. meth
    if tname == "md" then candidates[#candidates + 1] = "kiln.Integrator:" .. meth end
    if tname == "pot" then candidates[#candidates + 1] = "kiln.Potential:" .. meth end
    if tname == "traj" then candidates[#candidates + 1] = "kiln.Trajectory:" .. meth end
    if tname == "a" or tname == "atoms" then candidates[#candidates + 1] = "kiln.Atoms:" .. meth end
    if tname == "arr" then candidates[#candidates + 1] = "kiln.Array:" .. meth end
  end
  for _, path in ipairs(candidates) do
    if path == "kiln" and kiln then return nil, overview(S) end
    local v = resolve(path, kiln)
    if v ~= nil then return v, path end
    if S.docs[path] then return nil, path .. "\n" .. S.docs[path] end
  end
  for _, recs in pairs(S.stylelists) do                    -- a bare style name
    for _, r in ipairs(recs) do
      if r.name == name then return nil, render_style(S, r) end
    end
  end
  return nil
end

local function describe(v)
  if type(v) == "string" then return string.format("%q", v) end
  local ok, s = pcall(tostring, v)
  return ok and s or type(v)
end

local function text_of(S, x, hint)
  if S.styles[x] then return render_style(S, S.styles[x], S.names[x]) end
  if x ~= nil and x == S.kiln then
    local intro = rawget(x, "__help")
    return (type(intro) == "string" and (intro .. "\n\n") or "") .. overview(S)
  end
  local t = type(x)
  local tname, mt = type_name(x)
  if t == "table" and S.classes and S.classes[x] then       -- a class table (kiln.Atoms)
    local cname = S.classes[x]
    return render_class(S, x, cname)
  end
  if t == "table" and not tname then
    local name = S.names[x]
    if name then return render_module(S, x, name) end
    if registered[x] then return registered[x] end
    if rawget(x, "__help") then return render_module(S, x, hint or "table") end
    local n = 0
    for _ in pairs(x) do n = n + 1 end
    return "no help for " .. describe(x) .. " (a plain table with " .. n .. " entries)"
  end
  if tname and (t == "userdata" or t == "table") then
    if registered[x] then return registered[x] end
    return render_object(S, x, tname, mt)
  end
  if t == "function" then return render_function(S, x, S.names[x] or hint) end
  return nil
end

--- The help text for x (what help(x) prints).
function M.text(...)
  local S = survey()
  if select("#", ...) == 0 then return overview(S) end
  local x = ...
  if type(x) == "string" then
    local v, info = by_name(S, x)
    if v ~= nil then
      local s = text_of(S, v, info)
      if s then return s end
    end
    if info then return info end
    return "no help for " .. describe(x)
  end
  local s = text_of(S, x)
  return s or ("no help for " .. describe(x))
end

--- Print help for x (see the module comment). Returns nothing; never raises.
function M.show(...)
  local ok, s = pcall(M.text, ...)
  if not ok then
    local n = select("#", ...)
    s = "no help for " .. (n > 0 and describe((...)) or "this") .. " (internal error: " .. tostring(s) .. ")"
  end
  io.write(s, "\n")
end

M.__help = "help(x): documentation for modules, objects, functions and styles; help() lists modules"

return setmetatable(M, {__call = function(_, ...) return M.show(...) end})
