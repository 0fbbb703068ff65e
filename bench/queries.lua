-- SPDX-License-Identifier: MIT
-- queries.lua - wrk script for run_query.py: each connection cycles through the query
-- set (one query a line), each wrk thread from its own starting point, as GET
-- PATH?q=<query><EXTRA>. Usage: wrk ... -s queries.lua URL -- QUERIES PATH EXTRA [PREFIX]
-- With PREFIX = "prefix", q is the first 4 characters (not bytes) of the query's first
-- word (suggest).
local queries = {}
local i = 1
local counter = 0

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

-- The first n characters of UTF-8 string s (never cutting a character in two).
local function prefix(s, n)
  local chars, i = 0, 1
  while i <= #s do
    local c = s:byte(i)
    if c < 0x80 or c >= 0xC0 then -- not a continuation byte: a new character
      if chars == n then break end
      chars = chars + 1
    end
    i = i + 1
  end
  return s:sub(1, i - 1)
end

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  local file, path, extra, mode = args[1], args[2], args[3] or "", args[4]
  for line in io.lines(file) do
    local q = line
    if mode == "prefix" then
      q = line:gsub('^"', ""):match("^[^%s\"*]+") or line
      q = prefix(q, 4)
    end
    if #q > 0 then
      queries[#queries + 1] = path .. "?q=" .. urlencode(q) .. extra
    end
  end
  i = ((id or 0) * 997) % #queries + 1
end

function request()
  local r = wrk.format("GET", queries[i])
  i = i % #queries + 1
  return r
end
