-- The stateful fuzzer of the Lua API (issue 15 point 15, issue 16 point 14):
-- random, seeded sequences of calls on real streams on the rig's loopback
-- device (tests/seq/gen.lua), each run in a child pastream-lua that checks
-- the invariants after every step (tests/seq/run.lua): no crash, every
-- error a clear message, ps.stream_count() right, no stream running that
-- the model says ended, refused misuse (a closed Buffer, a map wider than
-- its Buffer, files changed while running), recordings complete up to
-- their end, and the program never dies from a library error.
--
-- A crash or a hang only ends a child: this process reports it with its
-- seed, cuts the sequence down to fewer steps that fail the same way, and
-- prints them as Lua calls.
--   PS_SEQ_COUNT (40)      sequences to run      PS_SEQ_SEED (1)  the first seed
--   PS_SEQ_SECONDS         stop starting new sequences after this many seconds
--   PS_SEQ_STEPS=1,4,5     run only these steps of PS_SEQ_SEED's sequence
--   PS_SEQ_SHRINK_SECONDS  time to cut each new kind of failure down (20),
--   PS_SEQ_SHRINK_TOTAL    and all of them (60)
--   PS_SEQ_FAULT_EVERY (8) every Nth seed kills a private JACK server
--                          mid-sequence (0: never)
--   PS_SEQ_TIMEOUT (20)    seconds without a step's output: a hang
-- A fixed set of seeds in `make check`; `make fuzz` runs many more.
package.path = "tests/?.lua;" .. package.path

if arg[1] == "--child" then             -- one sequence, in this process
  local R = require "seq.run"
  local steps = dofile(arg[2])
  R.run(steps, { tmp = arg[3] })
  os.exit(0)
end

local T = require "tap"
local uv = require "luv"
local task = require "pastream.task"
local gen = require "seq.gen"

local function env_num(name, def)
  local v = tonumber(os.getenv(name) or "")
  return v or def
end
local COUNT = env_num("PS_SEQ_COUNT", 40)
local SEED = env_num("PS_SEQ_SEED", 1)
local SECONDS = env_num("PS_SEQ_SECONDS", nil)
local SHRINK_SECONDS = env_num("PS_SEQ_SHRINK_SECONDS", 20)
local SHRINK_TOTAL = env_num("PS_SEQ_SHRINK_TOTAL", 60)
local FAULT_EVERY = env_num("PS_SEQ_FAULT_EVERY", 8)
local TIMEOUT = env_num("PS_SEQ_TIMEOUT", 20)
local ONLY = os.getenv("PS_SEQ_STEPS")
-- The children run the host this test runs on (tests/tap.lua's T.host).
local HOST = T.host()
local BUILD = os.getenv("PS_BUILD") or "build"
local SELF = arg[0]

local t_start = uv.hrtime()
local function elapsed() return (uv.hrtime() - t_start) / 1e9 end

local tmp = assert(uv.fs_mkdtemp((os.getenv("TMPDIR") or "/tmp") .. "/seqfuzz-XXXXXX"))

local function is_fault(seed) return FAULT_EVERY > 0 and seed % FAULT_EVERY == 0 end

-- The steps of a seed, all or those PS_SEQ_STEPS names.
local function sequence(seed)
  return gen.sequence(seed, { fault = is_fault(seed) })
end

local function write_steps(path, steps)
  local f = assert(io.open(path, "w"))
  f:write("return {\n")
  for _, st in ipairs(steps) do
    local parts = {}
    local keys = {}
    for k in pairs(st) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do
      local v = st[k]
      parts[#parts + 1] = string.format("%s = %s", k, type(v) == "string" and string.format("%q", v) or tostring(v))
    end
    f:write("  {", table.concat(parts, ", "), "},\n")
  end
  f:write("}\n")
  f:close()
end

---------------------------------------------------------------------------
-- A private JACK server for the fault sequences (they kill it)
---------------------------------------------------------------------------
local FAULT_BASE = string.format("seqfault-%d", math.tointeger(uv.os_getpid()))
local FAULT_RIG = FAULT_BASE
local fault_rigs = {}       -- every name used, to be cleaned up at the end
-- Run a shell command without blocking the loop (the children's output
-- and their timeouts go on meanwhile); true when it exits with status 0.
local function sh(cmd)
  return task.suspend(function(done)
    local h
    h = uv.spawn("sh", { args = { "-c", cmd } }, function(code)
      h:close()
      done(code == 0)
    end)
    if not h then done(false) end
  end)
end
local function start_fault_rig()
  -- (a sequence that ended before its crash step left it running: stop it.
  -- A killed server whose zombie nobody has reaped yet still holds its
  -- name: then a new name.)
  for try = 1, 2 do
    if try == 2 then FAULT_RIG = string.format("%s-%d", FAULT_BASE, #fault_rigs) end
    fault_rigs[FAULT_RIG] = true
    sh(string.format("scripts/jackrig.sh stop --name %s >/dev/null 2>&1", FAULT_RIG))
    if sh(string.format("scripts/jackrig.sh start --name %s --period 1024 --probe %s/pa_probe >%s/rig.log 2>&1",
                        FAULT_RIG, BUILD, tmp)) then
      return true
    end
    fault_rigs[#fault_rigs + 1] = FAULT_RIG
  end
  return false
end
local function end_fault_rig()
  -- a start under the same name also frees the slot a killed server left
  for name in pairs(fault_rigs) do
    if type(name) == "string" then
      sh(string.format("scripts/jackrig.sh start --name %s --period 1024 --probe %s/pa_probe >/dev/null 2>&1",
                       name, BUILD))
      sh(string.format("scripts/jackrig.sh stop --name %s >/dev/null 2>&1", name))
    end
  end
end

---------------------------------------------------------------------------
-- Running one child
---------------------------------------------------------------------------
local function environment(extra)
  local e = {}
  for k, v in pairs(uv.os_environ()) do
    if extra[k] == nil then e[#e + 1] = k .. "=" .. v end
  end
  for k, v in pairs(extra) do e[#e + 1] = k .. "=" .. v end
  return e
end

local nchild = 0
-- Run steps in a child; returns {out, err, code, signal, hung}.
local function run_child(steps, fault, timeout)
  timeout = timeout or TIMEOUT
  nchild = nchild + 1
  local dir = string.format("%s/c%d", tmp, nchild)
  uv.fs_mkdir(dir, 448)
  local file = dir .. "/steps.lua"
  write_steps(file, steps)
  local extra = {}
  if fault then
    extra.JACK_DEFAULT_SERVER = FAULT_RIG
    extra.PS_SEQ_FAULT_RIG = FAULT_RIG
  end
  return task.suspend(function(done)
    local stdout, stderr = uv.new_pipe(), uv.new_pipe()
    local o, e = {}, {}
    local last = uv.hrtime()
    local res = { hung = false }
    local pending = 3
    local timer = uv.new_timer()
    local function finish()
      pending = pending - 1
      if pending > 0 then return end
      timer:close()
      res.out, res.err = table.concat(o), table.concat(e)
      done(res)
    end
    local handle, pid
    handle, pid = uv.spawn(HOST, {
      args = { SELF, "--child", file, dir },
      stdio = { nil, stdout, stderr },
      env = environment(extra),
    }, function(code, signal)
      res.code, res.signal = code, signal
      handle:close()
      finish()
    end)
    if not handle then
      res.code, res.err, res.out = -1, "cannot run " .. HOST .. ": " .. tostring(pid), ""
      done(res)
      return
    end
    local function reader(acc, pipe)
      pipe:read_start(function(err, data)
        if data then
          acc[#acc + 1] = data
          last = uv.hrtime()
        else
          pipe:close()
          finish()
        end
      end)
    end
    reader(o, stdout)
    reader(e, stderr)
    timer:start(500, 500, function()
      if (uv.hrtime() - last) / 1e9 > timeout and not res.hung then
        res.timeout = timeout
        res.hung = true
        uv.process_kill(handle, "sigkill")
      end
    end)
  end)
end

---------------------------------------------------------------------------
-- The verdict on a child's run: a list of failures, each {class, text, step}
---------------------------------------------------------------------------
local function file_frames(path)
  local core = require "pastream.core"
  local info = core.file_info(path)
  return info and info.frames or -1
end

local function verdict(res, steps)
  local fails = {}
  local last, last_code = 0, nil
  local done = false
  local terminal_files = {}
  local skipped = {}
  for line in res.out:gmatch("[^\n]+") do
    local k, code = line:match("^step (%d+): (.*)$")
    if k then last, last_code = tonumber(k), code end
    local vk, text = line:match("^VIOLATION (%d+): (.*)$")
    if vk then fails[#fails + 1] = { step = tonumber(vk), text = text } end
    local path, min = line:match("^terminal%-file (%S+) (%d+)$")
    if path then terminal_files[#terminal_files + 1] = { path, tonumber(min) } end
    if line:match("^done") then done = true end
    local sk, why = line:match("^step (%d+): .*  %-%- skipped: (.*)$")
    if sk then skipped[tonumber(sk)] = why end
  end
  local function fail(text) fails[#fails + 1] = { step = last, text = text } end
  -- the first line of what the child wrote on stderr: its error message
  local errtail = res.err:match("[^\n]*%S[^\n]*") or ""
  if os.getenv("PS_SEQ_DEBUG") then io.stderr:write(res.out, res.err) end
  local step = steps[last]
  if res.hung then
    fail(string.format("the program hung (no output for %d s)", res.timeout))
  elseif not done then
    local how = res.signal and res.signal ~= 0 and ("killed by signal " .. res.signal)
                or ("exit status " .. tostring(res.code))
    if step and step.op == "terminal" then
      -- the program may end here; it must end cleanly
      if res.signal and res.signal ~= 0 then
        fail("the program ended by " .. how .. " after an error in a callback")
      end
      if res.err:find("Uncaught Error", 1, true) then
        fail("an error in a luv callback went to luv's default handler (exit, no cleanup): "
             .. (res.err:match("Uncaught Error[^\n]*") or ""))
      end
      for _, tf in ipairs(terminal_files) do
        local got = file_frames(tf[1])
        if got < tf[2] then
          fail(string.format("the recording %s holds %d frames after the program ended, but %d were written before",
                             tf[1]:match("[^/]*$"), got, tf[2]))
        end
      end
    elseif res.code == 1 and errtail:find("seqfuzz: deliberate error", 1, true) then
      -- a source's or sink's own error ended the program, with nobody
      -- waiting for the stream: the script's error, not the library's
    else
      local asan = res.err:match("ERROR: AddressSanitizer: [^\n]*") or res.err:match("runtime error: [^\n]*")
      fail(string.format("the program died (%s)%s", how,
           (asan and (": " .. asan)) or (errtail ~= "" and (": " .. errtail) or "")))
    end
  elseif res.code ~= 0 or (res.signal and res.signal ~= 0) then
    fail(string.format("the program exited with status %s, signal %s after the sequence", res.code, res.signal))
  end
  for _, f in ipairs(fails) do
    -- a kind of failure: its text without numbers and names, and the
    -- kind of call it happened in
    f.class = f.text:gsub("%d+", "N"):gsub("s%d", "sN"):gsub("b%d", "bN")
                    .. " @ " .. (steps[f.step] and steps[f.step].op or "the end")
  end
  return fails, last, skipped
end

-- The steps as a script a developer can run.
local function listing(steps, upto, skipped)
  local lines = { "-- (helpers: package.path = \"tests/?.lua;\" .. package.path; ps = require \"pastream\";"
                  .. " H = require \"seq.helpers\"; TMP = a directory)" }
  for i, st in ipairs(steps) do
    if upto and i > upto then break end
    lines[#lines + 1] = (skipped and skipped[i]) and ("-- " .. st.code .. "  (skipped: " .. skipped[i] .. ")") or st.code
  end
  return table.concat(lines, "\n")
end

-- Cut a failing sequence down: keep the steps up to the failing one, then
-- drop steps one at a time while the same kind of failure still shows.
local function shrink(steps, class, upto, fault, budget)
  local cur = {}
  for i = 1, math.min(upto, #steps) do cur[i] = steps[i] end
  local t0 = elapsed()
  local i = 1
  local function still_fails(try)
    -- (a shorter timeout: a hang shows in a few seconds when it is there)
    local res = run_child(try, fault and start_fault_rig(), math.min(TIMEOUT, 6))
    local fails = verdict(res, try)
    for _, f in ipairs(fails) do if f.class == class then return true end end
    return false
  end
  while i <= #cur and elapsed() - t0 < budget do
    local try = {}
    for j, st in ipairs(cur) do if j ~= i then try[#try + 1] = st end end
    if #try > 0 and still_fails(try) then cur = try else i = i + 1 end
  end
  return cur, i > #cur
end

---------------------------------------------------------------------------
-- The run
---------------------------------------------------------------------------
local seen = {}       -- kind of failure -> {seed, seconds}
local found = {}      -- in order
local ran = 0

local function report(seed, steps, fails, last, fault, skipped, seconds)
  ran = ran + 1
  local name = string.format("seed %d%s: %d steps (%.1f s)", seed, fault and " (server killed mid-sequence)" or "",
                             #steps, seconds or 0)
  if #fails == 0 then
    T.ok(true, name .. ", every invariant held")
    return
  end
  local lines = {}
  for _, f in ipairs(fails) do
    lines[#lines + 1] = string.format("step %d: %s", f.step, f.text)
  end
  T.ok(false, name .. ": " .. fails[1].text, table.concat(lines, "\n") .. "\nthe sequence:\n" ..
       listing(steps, last, skipped) .. string.format("\nreplay: PS_SEQ_SEED=%d PS_SEQ_COUNT=1 %s %s", seed, HOST, SELF))
  for _, f in ipairs(fails) do
    if not seen[f.class] then
      seen[f.class] = { seed = seed, seconds = elapsed(), step = f.step, text = f.text, fault = fault,
                        steps = steps }
      found[#found + 1] = f.class
    end
  end
end

-- The seeds still to run, made into sequences one at a time (make fuzz
-- asks for a million).
local LAST = SEED + COUNT - 1
local next_seed = { [false] = SEED, [true] = SEED }
local only_job
if ONLY then
  local all = sequence(SEED)
  local pick = {}
  for n in ONLY:gmatch("%d+") do pick[#pick + 1] = all[tonumber(n)] end
  only_job = { seed = SEED, steps = pick }
end
local function take(faults)
  if ONLY then
    if only_job and is_fault(only_job.seed) == faults then
      local j = only_job
      only_job = nil
      return j
    end
    return nil
  end
  local seed = next_seed[faults]
  while seed <= LAST and is_fault(seed) ~= faults do seed = seed + 1 end
  if seed > LAST then return nil end
  next_seed[faults] = seed + 1
  return { seed = seed, steps = sequence(seed) }
end
local function left()
  local n = 0
  for _, f in ipairs{ false, true } do
    for seed = next_seed[f], math.min(LAST, next_seed[f] + 1000) do
      if is_fault(seed) == f then n = n + 1 end
    end
  end
  return n
end

-- Two workers for the sequences on the shared rig, one for those that kill
-- their own private server (one at a time: they share it).
local function worker(faults)
  while true do
    if SECONDS and elapsed() > SECONDS then return end
    local job = take(faults)
    if not job then return end
    if faults and not start_fault_rig() then
      -- (JACK allows 8 servers on a machine: say so once, and run no more
      -- sequences that need one of their own)
      T.ok(false, string.format("seed %d: the private rig %s started", job.seed, FAULT_RIG),
           T.read(tmp .. "/rig.log"))
      next_seed[true] = LAST + 1
    else
      local t0 = elapsed()
      local res = run_child(job.steps, faults)
      res.seconds = elapsed() - t0
      local fails, last, skipped = verdict(res, job.steps)
      report(job.seed, job.steps, fails, last, faults, skipped, res.seconds)
    end
  end
end
local workers = { task.spawn(worker, false), task.spawn(worker, false), task.spawn(worker, true) }
for _, w in ipairs(workers) do w:join() end   -- a worker's error is raised here
if SECONDS and left() > 0 then
  print(string.format("# PS_SEQ_SECONDS=%d reached: the seeds from %d on were not run", SECONDS,
                      math.min(next_seed[false], next_seed[true])))
end

-- Each new kind of failure, cut down to fewer steps that fail the same way.
local shrink_left = SHRINK_TOTAL
for _, class in ipairs(found) do
  local f = seen[class]
  local budget = math.min(SHRINK_SECONDS, shrink_left)
  local t0 = elapsed()
  local short, minimal = shrink(f.steps, class, f.step, f.fault, budget)
  shrink_left = shrink_left - (elapsed() - t0)
  print(string.format("# found after %.1f s, seed %d%s: %s", f.seconds, f.seed,
                      f.fault and " (fault)" or "", f.text))
  print(string.format("#   %s sequence of %d steps that fails the same way:",
                      minimal and "a minimal" or "a shorter", #short))
  for line in listing(short):gmatch("[^\n]+") do print("#     " .. line) end
  local idx = {}
  local all = f.steps
  for _, st in ipairs(short) do
    for i, a in ipairs(all) do if a == st then idx[#idx + 1] = i break end end
  end
  print(string.format("#   replay: PS_SEQ_SEED=%d PS_SEQ_STEPS=%s %s %s", f.seed, table.concat(idx, ","),
                      HOST:match("[^/]*$") == "pastream-lua" and "./pastream-lua" or HOST, SELF))
end

end_fault_rig()
print(string.format("# %d sequences in %.1f s, %d kinds of failure", ran, elapsed(), #found))
os.execute("rm -rf '" .. tmp .. "'")
T.done()
