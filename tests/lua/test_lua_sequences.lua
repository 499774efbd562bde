-- Sequences of Lua-side calls on one stream, drawn at random (seeded), with
-- invariants checked after each (issue 16): sources and sinks that error,
-- yield or close their own stream; waits after close; break out of chunk
-- loops; errors in luv callbacks (caught by a task's join).  Invariants:
-- the test program itself never dies (every library error is an error
-- value that says something), an error carries at most one traceback, a
-- recording is complete up to its stop, an overwrite that failed leaves
-- the original untouched, and at the end no stream and no temporary file
-- is left.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"
local uv = require "luv"

local SEED = tonumber(os.getenv("PS_SEQ_SEED") or "") or 16
local RUNS = tonumber(os.getenv("PS_SEQ_RUNS") or "") or 30
local STEPS = 6
math.randomseed(SEED)

local dir = os.tmpname()
os.remove(dir)
assert(uv.fs_mkdir(dir, 448))
local function path(name) return dir .. "/" .. name end

-- The original that overwrites must not damage when they fail.
local orig = ps.Buffer(4800, 2)
for i = 1, #orig do orig[i] = ((i * 7919) % 1000) / 1000 - 0.5 end
assert(ps.save(path("orig.wav"), orig, 48000))
local orig_bytes = T.read(path("orig.wav"))

local problems = {}
local function problem(fmt, ...) problems[#problems + 1] = string.format(fmt, ...) end

-- An error from the library must be a string that says something, with at
-- most one traceback.
local function judge(what, ok, err)
  if ok then return end
  if type(err) ~= "string" then problem("%s raised a %s", what, type(err)) return end
  local n = select(2, err:gsub("stack traceback:", ""))
  if n > 1 then problem("%s: %d tracebacks in one error: %s", what, n, err) end
end

-- Sources and sinks with a behaviour drawn per call.
local function behaviour()
  local r = math.random(6)
  return r == 1 and "error" or r == 2 and "yield" or r == 3 and "close" or "fine"
end

local function make_source(ctx, how)
  local calls = 0
  return function(b)
    calls = calls + 1
    if calls == 2 then
      if how == "error" then error("the source broke") end
      if how == "yield" then ps.yield() end
      if how == "close" then ctx.s:close() end
    end
    b:fill(0.25)
  end
end

local function make_sink(ctx, how)
  local calls = 0
  return function(b)
    calls = calls + 1
    if calls == 2 then
      if how == "error" then error("the sink broke") end
      if how == "yield" then ps.yield() end
      if how == "close" then ctx.s:close() end
    end
  end
end

-- A recording file's run ends before the next run starts: stop it, and the
-- file must hold every frame the stream received (closed while it ran: at
-- least what it had received just before the close).
local function settle_file(ctx, trace)
  if not ctx.file then return end
  local want, atleast
  if not ctx.s.closed then
    pcall(ctx.s.stop, ctx.s)
    pcall(ctx.s.wait, ctx.s, 2)
  end
  if ctx.s.closed then atleast = ctx.closing_frames else want = ctx.s.rx_frames end
  local info = ps.file_info(ctx.file)
  local got = info and info.frames or -1
  if want and got ~= want then
    problem("%s: the file holds %d frames, the stream received %d", trace(), got, want)
  elseif atleast and got < atleast then
    problem("%s: the file holds %d frames, the stream had received %d before the close", trace(), got, atleast)
  end
  os.remove(ctx.file)
  ctx.file = nil
end

local ops = {}

function ops.play_fn(ctx)
  local how = behaviour()
  return pcall(ctx.s.play, ctx.s, make_source(ctx, how), { frames = 9600, blocking = math.random(2) == 1 }), how
end

function ops.record_sink(ctx)
  local how = behaviour()
  return pcall(ctx.s.record, ctx.s, { out = make_sink(ctx, how), frames = 9600, blocking = math.random(2) == 1 }), how
end

function ops.record_file(ctx)
  local p = path("rec.wav")
  local ok, err = pcall(ctx.s.record, ctx.s, { out = p, frames = 9600, overwrite = true, blocking = false })
  if ok then ctx.file = p end
  return ok, err
end

function ops.overwrite_fails(ctx)
  -- a recording over orig.wav that fails before it starts: orig.wav stays
  local ok, err = pcall(ctx.s.record, ctx.s, { out = path("orig.wav"), overwrite = true, frames = "many" })
  if ok then problem("record{frames = 'many'} did not fail") end
  return ok, err
end

function ops.wait(ctx)
  return pcall(ctx.s.wait, ctx.s, 2)
end

function ops.stop(ctx) return pcall(ctx.s.stop, ctx.s) end
function ops.abort(ctx) return pcall(ctx.s.abort, ctx.s) end

function ops.close(ctx)
  ctx.closing_frames = not ctx.s.closed and ctx.s.rx_frames or 0
  return pcall(ctx.s.close, ctx.s)
end

function ops.chunks_break(ctx)
  local k = math.random(0, 3)
  local how = behaviour()
  return pcall(function()
    local n = 0
    for _ in ctx.s:chunks{ chunksize = 1024, frames = 48000, playback = make_source(ctx, how) } do
      n = n + 1
      if n > k then break end
    end
  end), how
end

function ops.wait_in_task(ctx)
  -- (joined at once: a task that fails with nobody joining ends the program)
  local h = ps.spawn(function() return ctx.s:wait(2) end)
  return pcall(h.join, h)
end

function ops.cancel_waiter(ctx)
  local judged
  local h = ps.spawn(function()
    local x <close> = setmetatable({}, { __close = function() judged = true end })
    local ok, err = pcall(ctx.s.wait, ctx.s, 2)
    judge("a waiting task's wait", ok, err)
  end)
  ps.sleep(0.02)
  local ok, err = h:cancel()
  if not judged then problem("a cancelled task's <close> did not run") end
  return ok, err
end

function ops.callback_error(ctx)
  -- an error in a luv timer callback, inside a task that joins: the
  -- callback hands it to the task, which raises it to its joiner
  local h = ps.spawn(function()
    local err
    local t = uv.new_timer()
    ps._wait_engine(0)                      -- a wait of its own, then:
    require("pastream.task").suspend(function(wake)
      t:start(5, 0, function()
        t:close()
        local ok, e = pcall(error, "the timer broke")
        err = e
        wake()
      end)
    end)
    error(err, 0)
  end)
  return pcall(h.join, h)
end

function ops.sleep() ps.sleep(math.random() * 0.05) return true end

local names = {}
for k in pairs(ops) do names[#names + 1] = k end
table.sort(names)

-- The ops that start a run (the file's run ends before).
local starts = { play_fn = true, record_sink = true, record_file = true, chunks_break = true,
                 overwrite_fails = true }

for runno = 1, RUNS do
  local ctx = { s = ps.DuplexStream{ device = "loopback" } }
  local trace = {}
  local function tr() return "run " .. runno .. ": " .. table.concat(trace, " ") end
  for _ = 1, STEPS do
    local name = names[math.random(#names)]
    if starts[name] then settle_file(ctx, tr) end
    local ok, err, how = ops[name](ctx)
    if type(err) ~= "string" and how == nil then how = err end
    trace[#trace + 1] = name .. (type(how) == "string" and ("(" .. how .. ")") or "")
    judge(tr(), ok, err)
    if T.read(path("orig.wav")) ~= orig_bytes then problem("%s: orig.wav changed", tr()) end
    if ctx.s.closed then break end
  end
  settle_file(ctx, tr)
  local ok, err = pcall(ctx.s.close, ctx.s)
  judge("close at the end", ok, err)
end

T.ok(#problems == 0, string.format("%d random sequences of %d steps (seed %d) keep every invariant", RUNS, STEPS, SEED),
  table.concat(problems, "\n"))
T.eq(ps.stream_count(), 0, "no stream is left open")
T.eq(T.listing(dir), "orig.wav", "no temporary file is left, orig.wav is there")
os.remove(path("orig.wav"))
uv.fs_rmdir(dir)
T.done()
