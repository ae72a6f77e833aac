-- wrk script: the shared macs.lua (MACS_LUA), with wrk's -H headers added to each request.
-- wrk leaves them out of requests a script formats with headers of its own, as macs.lua
-- does, so `-H 'Connection: close'` alone would not reach the server.
dofile(os.getenv("MACS_LUA"))
local fetch = request
request = function()
  local extra = ""
  for name, value in pairs(wrk.headers) do
    if name ~= "Host" then extra = extra .. name .. ": " .. value .. "\r\n" end
  end
  local req = fetch()
  local eol = req:find("\r\n", 1, true)
  return req:sub(1, eol + 1) .. extra .. req:sub(eol + 2)
end
