/* Fuzz target: the command line's parsers (lua/pastream/cli.lua) in the
 * real Lua 5.4: parse_time, parse_frames, parse_size, parse_rate,
 * parse_map, parse_pair, the @argfile reader and parse_args as a whole.
 *
 * The first byte chooses the parser (0-9: see the harness below), the rest is its text (for parse_args,
 * arguments separated by NUL bytes; any @FILE reads the rest of the input,
 * written to a scratch file, so files outside are never read).  A parser
 * must return a value of the promised kind or raise its own error: a plain
 * message (the value parsers and the argfile reader) or the CLI's usage
 * error, status 2 (parse_args).  A Lua runtime error inside cli.lua ("attempt
 * to compare nil with number"), a wrong kind of value, a hang (libFuzzer's
 * -timeout) or a crash is a finding. */
#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PS_LUADIR
#define PS_LUADIR "lua"
#endif

static const char harness[] =
    "local cli, argfile = ...\n"
    "local real_open = io.open\n"
    "io.open = function(path, mode)\n"          /* only the scratch file exists */
    "  if path == argfile then return real_open(path, mode) end\n"
    "  return nil, path .. ': No such file or directory'\n"
    "end\n"
    /* A runtime error inside cli.lua starts with its position. */
    "local here = debug.getinfo(cli.parse_time, 'S').short_src .. ':'\n"
    "local function finding(fmt, ...) error('FINDING: ' .. string.format(fmt, ...), 0) end\n"
    "local function check(what, text, ok, ...)\n"
    "  if ok then return ... end\n"
    "  local e = ...\n"
    "  if what == 'parse_args' then\n"
    "    if type(e) ~= 'table' or e.code ~= 2 or type(e.message) ~= 'string' then\n"
    "      finding('%s(%q) raised %s, not a usage error', what, text, tostring(e))\n"
    "    end\n"
    "    e = e.message\n"
    "  elseif type(e) ~= 'string' then\n"
    "    finding('%s(%q) raised a %s', what, text, type(e))\n"
    "  end\n"
    "  if e:sub(1, #here) == here then finding('%s(%q): %s', what, text, e) end\n"
    "  return nil\n"
    "end\n"
    "local function int(v) return math.type(v) == 'integer' end\n"
    "local function want(cond, what, text, v)\n"
    "  if not cond then finding('%s(%q) returned %s', what, text, tostring(v)) end\n"
    "end\n"
    /* A plain count with a multiplier must be worth about that much: a
     * wrapped integer product is far off. */
    "local MULT = { k = 1000, K = 1024, m = 1e6, M = 1048576 }\n"
    "local function worth(v, text, rate)\n"
    "  local d, suffix = text:match('^(%d+)([kKmM]?)s?$')\n"
    "  if not d or (rate and suffix:match('[mM]')) then return true end\n"
    "  local want = tonumber(d) * 1.0 * (rate and suffix ~= '' and 1000 or MULT[suffix] or 1)\n"
    "  return math.abs(v - want) <= 1e-9 * want + 1\n"
    "end\n"
    "local function pair_of(t, text, what)\n"
    "  want(type(t) == 'table', what, text, t)\n"
    "  for k in pairs(t) do want(k == 'input' or k == 'output', what, text, k) end\n"
    "end\n"
    "return function(which, text)\n"
    "  if which == 0 then\n"
    "    local ok, f, sec = pcall(cli.parse_time, text)\n"
    "    if not ok then return check('parse_time', text, ok, f) end\n"
    "    want((int(f) and f >= -1) or (f == nil and type(sec) == 'number' and sec >= 0 and sec < math.huge),\n"
    "         'parse_time', text, f or sec)\n"
    "  elseif which == 1 then\n"
    "    local ok, f = pcall(cli.parse_time, text, 48000)\n"
    "    if ok then want(int(f) and f >= -1, 'parse_time', text, f) else check('parse_time', text, ok, f) end\n"
    "  elseif which == 2 then\n"
    "    local ok, f = pcall(cli.parse_frames, text)\n"
    "    if ok then want(int(f) and f >= -1 and worth(f, text), 'parse_frames', text, f) else check('parse_frames', text, ok, f) end\n"
    "  elseif which == 3 or which == 4 then\n"
    "    local pow2 = which == 4\n"
    "    local ok, n = pcall(cli.parse_size, text, pow2)\n"
    "    if ok then\n"
    "      want(int(n) and n >= 0 and (not pow2 or (n >= 1 and n & (n - 1) == 0)) and worth(n, text),\n"
    "           'parse_size', text, n)\n"
    "    else check('parse_size', text, ok, n) end\n"
    "  elseif which == 5 then\n"
    "    local ok, r = pcall(cli.parse_rate, text)\n"
    "    if ok then want(type(r) == 'number' and r > 0 and r < math.huge and worth(r, text, true), 'parse_rate', text, r)\n"
    "    else check('parse_rate', text, ok, r) end\n"
    "  elseif which == 6 then\n"
    "    local ok, m = pcall(cli.parse_map, text)\n"
    "    if not ok then return check('parse_map', text, ok, m) end\n"
    "    if m == nil then return end\n"
    "    want(type(m) == 'table', 'parse_map', text, m)\n"
    "    local seen = {}\n"
    "    for i, e in ipairs(m) do\n"
    "      want(int(e[1]) and e[1] >= 0 and int(e[2]) and e[2] >= 1 and not seen[e[2]],\n"
    "           'parse_map', text, 'entry ' .. i)\n"
    "      seen[e[2]] = true\n"
    "    end\n"
    "  elseif which == 7 then\n"
    "    local ok, p = pcall(cli.parse_pair, text)\n"
    "    if ok then pair_of(p, text, 'parse_pair') else check('parse_pair', text, ok, p) end\n"
    "  elseif which == 8 then\n"
    "    local ok, list = pcall(cli.read_argfile, argfile)\n"
    "    if not ok then return check('read_argfile', text, ok, list) end\n"
    "    want(type(list) == 'table', 'read_argfile', text, list)\n"
    "    for i, a in ipairs(list) do want(type(a) == 'string', 'read_argfile', text, i) end\n"
    "  else\n"
    "    local argv = {}\n"
    "    for a in (text .. '\\0'):gmatch('([^\\0]*)\\0') do\n"
    "      if a:sub(1, 1) == '@' and #a > 1 then a = '@' .. argfile end\n"
    "      argv[#argv + 1] = a\n"
    "    end\n"
    "    local ok, res = pcall(cli.parse_args, argv)\n"
    "    if ok then want(type(res) == 'table', 'parse_args', text, res)\n"
    "    else check('parse_args', text, ok, res) end\n"
    "  end\n"
    "end\n";

static lua_State *L;
static char argfile[4096];

/* liblua5.4 is not instrumented, so libFuzzer would see no coverage of
 * cli.lua.  A line hook gives it some: every pair (previous line, line) run
 * in cli.lua bumps a counter in libFuzzer's extra-counters section (ignored
 * without libFuzzer). */
#define NCOUNTERS 8192
__attribute__((used, section("__libfuzzer_extra_counters")))
static uint8_t lua_edges[NCOUNTERS];

static void line_hook(lua_State *L1, lua_Debug *ar)
{
    static int prev;
    if (!lua_getinfo(L1, "S", ar) || ar->source[0] != '@')
        return;
    size_t n = strlen(ar->source);
    /* cli.lua, and pastream.options, the parser it runs */
    if (!(n >= 8 && strcmp(ar->source + n - 8, "/cli.lua") == 0)
        && !(n >= 12 && strcmp(ar->source + n - 12, "/options.lua") == 0))
        return;
    unsigned h = ((unsigned)prev * 2654435761u ^ (unsigned)ar->currentline) % NCOUNTERS;
    lua_edges[h]++;
    prev = ar->currentline;
}

static void remove_argfile(void) { unlink(argfile); }

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(argfile, sizeof argfile, "%s/fuzz_cli_XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    int fd = mkstemp(argfile);
    if (fd < 0) {
        perror("fuzz_cli: mkstemp");
        abort();
    }
    close(fd);
    atexit(remove_argfile);
    L = luaL_newstate();
    luaL_openlibs(L);
    lua_getglobal(L, "package");
    lua_pushstring(L, PS_LUADIR "/?.lua;" PS_LUADIR "/?/init.lua");
    lua_setfield(L, -2, "path");
    lua_pop(L, 1);
    if (luaL_loadbuffer(L, harness, sizeof harness - 1, "=fuzz_cli") != LUA_OK)
        goto fail;
    lua_getglobal(L, "require");
    lua_pushliteral(L, "pastream.cli");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK)
        goto fail;
    lua_pushstring(L, argfile);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK)
        goto fail;
    lua_setfield(L, LUA_REGISTRYINDEX, "fuzz.cli");
    lua_sethook(L, line_hook, LUA_MASKLINE, 0);
    return;
fail:
    fprintf(stderr, "fuzz_cli: cannot set up: %s\n", lua_tostring(L, -1));
    abort();
}

static void write_argfile(const uint8_t *p, size_t n)
{
    FILE *f = fopen(argfile, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror("fuzz_cli: the scratch argfile");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!L)
        setup();
    if (size < 1)
        return 0;
    int which = (uint8_t)(data[0] - '0') % 10;   /* seeds start with a digit */
    const uint8_t *text = data + 1;
    size_t n = size - 1;
    if (which >= 8)
        write_argfile(text, n);
    lua_getfield(L, LUA_REGISTRYINDEX, "fuzz.cli");
    lua_pushinteger(L, which);
    lua_pushlstring(L, (const char *)text, n);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
        fprintf(stderr, "fuzz_cli: %s\n", lua_tostring(L, -1));
        abort();
    }
    lua_settop(L, 0);
    return 0;
}
