/* pastream-lua: Lua 5.4 with luv, and pastream's modules on its paths.
 *
 *   pastream-lua [options] [SCRIPT [ARGS...]]
 *
 * Like lua(1): `arg` holds the script name at 0 and its arguments at 1..n.
 * The script runs as the first task on the luv loop (lua/pastream/task.lua,
 * task.main), and the process exits when every task has ended.  Everything
 * runs under a protected call with a traceback; an uncaught error prints
 * it and exits 1.  SIGINT/SIGTERM close every stream (see init.lua).
 *
 * The host links only Lua, luv and libuv.  The C core (PortAudio,
 * libsndfile: many libraries for the dynamic loader) is the module
 * pastream/core.so, found on package.cpath on the first require
 * "pastream.core", so that a script that does not use audio starts about
 * as fast as lua5.4 does.  The core closes every stream and PortAudio itself when
 * the Lua state closes (a finalizer, src/lcore.c). */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <luv/luv.h>
#include <sys/stat.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "sigchain.h"

#ifndef PS_SHAREDIR
#define PS_SHAREDIR "/usr/local/share"
#endif
#ifndef PS_CMODDIR
#define PS_CMODDIR "/usr/local/lib/lua/5.4"
#endif

static const char *progname = "pastream-lua";

static void usage(FILE *f)
{
    fprintf(f,
        "usage: %s [options] [script [args...]]\n"
        "Runs a Lua 5.4 script with luv and pastream loaded, as a task on the event loop.\n"
        "  -e CODE   run CODE (before the script, if any)\n"
        "  -v        print the versions of pastream-lua and what it runs on\n"
        "  --recipes list the bundled recipes (a script name that is not a file is one of them)\n"
        "  -h        print this help\n"
        "  --        stop handling options\n"
        "  -         run the script from standard input\n"
        "The script's arguments are in the global table `arg`, as with lua.\n",
        progname);
}

/* Directory of the running executable, for finding the Lua modules. */
static int exe_dir(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    return 0;
}

static int exists(const char *path) { return access(path, R_OK) == 0; }

/* The bundled recipes, the .lua files in scripts/: the build tree's next to the binary,
 * else the installed ones.  Returns the first of these that is a directory. */
static const char *recipe_dir(int i, char *buf, size_t len)
{
    char dir[PATH_MAX];
    int have = exe_dir(dir, sizeof dir) == 0;
    switch (i) {
    case 0: if (!have) return NULL; snprintf(buf, len, "%s/scripts", dir); break;
    case 1: if (!have) return NULL; snprintf(buf, len, "%s/../share/pastream-lua/scripts", dir); break;
    case 2: snprintf(buf, len, "%s", PS_SHAREDIR "/pastream-lua/scripts"); break;
    default: return NULL;
    }
    DIR *d = opendir(buf);
    if (!d)
        return NULL;
    closedir(d);
    return buf;
}

/* A script name that is not a path: the bundled recipe of that name. */
static const char *find_recipe(const char *name, char *buf, size_t len)
{
    char dir[PATH_MAX + 64];
    for (int i = 0; i < 3; i++)
        if (recipe_dir(i, dir, sizeof dir)) {
            snprintf(buf, len, "%s/%s", dir, name);
            if (exists(buf))
                return buf;
        }
    return NULL;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* --recipes: every *.lua in the recipe directory with the description on
 * its first line ("-- NAME: what it does"). */
static int list_recipes(void)
{
    char dir[PATH_MAX + 64], path[PATH_MAX + 384], line[256];
    int i = 0;
    while (i < 3 && !recipe_dir(i, dir, sizeof dir))
        i++;
    DIR *d = i < 3 ? opendir(dir) : NULL;
    if (!d) {
        fprintf(stderr, "%s: no recipe directory (looked next to the binary and in %s)\n",
                progname, PS_SHAREDIR "/pastream-lua/scripts");
        return 1;
    }
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".lua") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    printf("Recipes in %s (run one with: %s NAME --help):\n", dir, progname);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "r");
        const char *desc = "";
        if (f && fgets(line, sizeof line, f) && strncmp(line, "--", 2) == 0) {
            desc = line + 2 + strspn(line + 2, " -");
            size_t l = strlen(names[i]);
            if (strncmp(desc, names[i], l) == 0 && desc[l] == ':')
                desc += l + 1 + strspn(desc + l + 1, " ");
            line[strcspn(line, "\n")] = '\0';
        }
        if (f)
            fclose(f);
        printf("  %-20s %s\n", names[i], desc);
        free(names[i]);
    }
    return 0;
}

/* package.pastream_chain_signals(): the second-signal exit
 * (src/sigchain.c); task.lua calls it once it has started its signal
 * watchers.  Safe to call again. */
static int chain_signals(lua_State *L)
{
    (void)L;
    ps_chain_signals();
    return 0;
}

/* Prepend "DIR/?.so;" for the first DIR of dirs[0..n) that holds
 * pastream/core.so, and then "PS_CMODDIR/?.so;", to package.cpath
 * (package is on the stack top). */
static void set_cpath(lua_State *L, const char *const dirs[], int n)
{
    char probe[PATH_MAX + 96];
    const char *found = "";
    for (int i = 0; i < n && !*found; i++) {
        snprintf(probe, sizeof probe, "%s/pastream/core.so", dirs[i]);
        if (exists(probe))
            found = dirs[i];
    }
    lua_getfield(L, -1, "cpath");
    lua_pushfstring(L, "%s%s%s/?.so;%s", found, *found ? "/?.so;" : "", PS_CMODDIR,
                    lua_tostring(L, -1));
    lua_setfield(L, -3, "cpath");
    lua_pop(L, 1);
}

/* pastream's modules precompiled: the searcher put before Lua's own takes
 * "pastream" and "pastream.*" from LUAC_DIR/pastream/NAME.luac (made by
 * make, with the source's chunk name) when that file has exactly the
 * modification time of the source package.path finds under LUA_DIR (make
 * copies it with touch -r): any edit of the source, to an older time too,
 * makes Lua's own searcher load the source.  Compiling cli.lua and what it
 * needs was most of `pastream -h`'s start.  Upvalues: LUA_DIR, LUAC_DIR. */
static int bytecode_searcher(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    if (strncmp(name, "pastream", 8) != 0 || (name[8] != '\0' && name[8] != '.'))
        return 0;
    size_t dirlen;
    const char *lua_dir = lua_tolstring(L, lua_upvalueindex(1), &dirlen);
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "searchpath");
    lua_pushvalue(L, 1);
    lua_getfield(L, -3, "path");
    lua_call(L, 2, 1);
    const char *src = lua_tostring(L, -1);
    size_t n = src ? strlen(src) : 0;
    if (!src || n <= dirlen + 4 || strncmp(src, lua_dir, dirlen) != 0 || src[dirlen] != '/' ||
        strcmp(src + n - 4, ".lua") != 0)
        return 0;
    const char *bc = lua_pushfstring(L, "%s%sc", lua_tostring(L, lua_upvalueindex(2)), src + dirlen);
    struct stat ss, bs;
    if (stat(src, &ss) != 0 || stat(bc, &bs) != 0 || bs.st_size == 0 ||
        ss.st_mtim.tv_sec != bs.st_mtim.tv_sec || ss.st_mtim.tv_nsec != bs.st_mtim.tv_nsec)
        return 0;
    if (luaL_loadfilex(L, bc, "b") != LUA_OK)
        return 0;                       /* unreadable: the source serves */
    lua_pushstring(L, bc);
    return 2;
}

/* Insert bytecode_searcher as package.searchers[2], before Lua's own file
 * searcher (package is on the stack top). */
static void add_bytecode_searcher(lua_State *L, const char *lua_dir, const char *luac_dir)
{
    lua_getfield(L, -1, "searchers");
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = n; i >= 2; i--) {
        lua_rawgeti(L, -1, i);
        lua_rawseti(L, -2, i + 1);
    }
    lua_pushstring(L, lua_dir);
    lua_pushstring(L, luac_dir);
    lua_pushcclosure(L, bytecode_searcher, 2);
    lua_rawseti(L, -2, 2);
    lua_pop(L, 1);
}

/* Put pastream's own modules first on package.path and package.cpath: the
 * build tree's when this binary runs from one, else the installed ones. */
static void set_paths(lua_State *L)
{
    char dir[PATH_MAX], probe[PATH_MAX + 64], lua_dir[PATH_MAX + 64] = "", luac_dir[PATH_MAX + 64] = "";
    /* the C core: the build tree's build/, the sanitizer build directory
     * the host sits in (build-asan/pastream/core.so), the installed one */
    char cdir[3][PATH_MAX + 64];
    const char *const cdirs[3] = { cdir[0], cdir[1], cdir[2] };
    int have = exe_dir(dir, sizeof dir) == 0;
    if (have) {
        snprintf(probe, sizeof probe, "%s/lua/pastream/task.lua", dir);
        if (exists(probe)) {
            snprintf(lua_dir, sizeof lua_dir, "%s/lua", dir);
            snprintf(luac_dir, sizeof luac_dir, "%s/build/luac", dir);
        } else {
            snprintf(probe, sizeof probe, "%s/../share/lua/5.4/pastream/task.lua", dir);
            if (exists(probe)) {
                snprintf(lua_dir, sizeof lua_dir, "%s/../share/lua/5.4", dir);
                snprintf(luac_dir, sizeof luac_dir, "%s/../lib/pastream-lua/luac", dir);
            }
        }
        snprintf(cdir[0], sizeof cdir[0], "%s/build", dir);
        snprintf(cdir[1], sizeof cdir[1], "%s", dir);
        snprintf(cdir[2], sizeof cdir[2], "%s/../lib/lua/5.4", dir);
    } else
        dir[0] = '\0';
    if (!lua_dir[0])
        snprintf(lua_dir, sizeof lua_dir, "%s/lua/5.4", PS_SHAREDIR);
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", lua_dir, lua_dir, lua_tostring(L, -1));
    lua_setfield(L, -3, "path");
    lua_pop(L, 1);
    if (luac_dir[0] && getenv("PASTREAM_LUA_NO_BYTECODE") == NULL)
        add_bytecode_searcher(L, lua_dir, luac_dir);
    set_cpath(L, cdirs, have ? 3 : 0);
    lua_pushstring(L, dir);
    lua_setfield(L, -2, "pastream_bindir");
    lua_pushcfunction(L, chain_signals);
    lua_setfield(L, -2, "pastream_chain_signals");
    lua_pop(L, 1);
}

static int traceback(lua_State *L);

/* luv's callback caller (luv_set_callback).  luv's own prints "Uncaught
 * Error" and calls exit(), so no stream is stopped, no file finished and no
 * <close> variable runs.  This one calls the callback with a traceback and
 * hands an error to the scheduler, task.fail of lua/pastream/task.lua: the
 * loop stops, the other tasks are closed and task.run raises the error,
 * which ends the script as any uncaught error does.  The contract
 * (luv.h): the function and nargs arguments are removed; on success the
 * results are left and their number returned, on error nothing is left
 * and -status is returned. */
static int callback_pcall(lua_State *L, int nargs, int nresults, int flags)
{
    (void)flags;                    /* never exit(): the scheduler ends the program */
    int base = lua_gettop(L) - nargs;          /* the function */
    lua_pushcfunction(L, traceback);
    lua_insert(L, base);
    int status = lua_pcall(L, nargs, nresults, base);
    if (status == LUA_OK) {
        lua_remove(L, base);
        return lua_gettop(L) - base + 1;
    }
    /* the error object is at the top (index err): task.fail(err), protected */
    int err = lua_gettop(L), handed = 0;
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, "pastream.task") == LUA_TTABLE
        && lua_getfield(L, -1, "fail") == LUA_TFUNCTION) {
        lua_pushvalue(L, err);
        handed = lua_pcall(L, 1, 0, 0) == LUA_OK;
    }
    lua_settop(L, err);
    if (!handed) {                  /* no scheduler: report it, stop the loop */
        fprintf(stderr, "%s: error in a luv callback: %s\n", progname,
                lua_isstring(L, -1) ? lua_tostring(L, -1) : "(not a string)");
        uv_stop(luv_loop(L));
    }
    lua_settop(L, base - 1);
    return -status;
}

/* package.loaded.luv = luv on our loop. */
static void open_libs(lua_State *L, uv_loop_t *loop)
{
    luaL_openlibs(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    luv_set_loop(L, loop);
    luv_set_callback(L, callback_pcall);
    luaopen_luv(L);
    lua_setfield(L, -2, "luv");
    lua_pop(L, 1);
}

static int traceback(lua_State *L)
{
    if (lua_istable(L, 1))          /* {exit = N, message = ...}: not an error */
        return 1;
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL && !lua_isnoneornil(L, 1)) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    if (strstr(msg, "\nstack traceback:"))   /* a task's error has its own */
        return 1;
    luaL_traceback(L, L, msg, 1);
    return 1;
}

typedef struct host_args {
    int argc;
    char **argv;
    int script;       /* index of the script in argv, or 0 */
    const char **code;
    int ncode;
    int version;
    int cli;          /* run as `pastream`: the bundled CLI, no shell between */
} host_args;

/* The bundled command line (what scripts/pastream runs), for a host started
 * under the name pastream: a link named pastream runs the CLI directly,
 * busybox-style, without the /bin/sh launcher's fork and exec. */
static const char cli_chunk[] =
    "local code = require(\"pastream.cli\").main(arg)\n"
    "if code ~= 0 then error({ exit = code }, 0) end\n";

static int print_versions(lua_State *L)
{
    lua_getglobal(L, "require");
    lua_pushliteral(L, "pastream.core");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "versions");
    lua_call(L, 0, 1);
    const char *keys[] = { "pastream", "portaudio", "sndfile", "lua", "libuv" };
    const char *labels[] = { "pastream-lua", "PortAudio", "libsndfile", "Lua", "libuv" };
    for (int i = 0; i < 5; i++) {
        lua_getfield(L, -1, keys[i]);
        printf("%-13s %s\n", labels[i], lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    lua_getglobal(L, "require");
    lua_pushliteral(L, "luv");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "version_string");
    lua_call(L, 0, 1);
    printf("%-13s %s\n", "luv (libuv)", lua_tostring(L, -1));
    return 0;
}

/* Everything that can fail runs in here, under lua_pcall. */
static int pmain(lua_State *L)
{
    host_args *a = lua_touserdata(L, 1);
    int nargs = a->script ? a->argc - a->script - 1 : 0;

    set_paths(L);
    /* arg: script at 0, its arguments at 1.., the interpreter and options below 0 */
    lua_createtable(L, nargs, a->script + 1);
    for (int i = 0; i < a->argc; i++) {
        lua_pushstring(L, a->argv[i]);
        lua_rawseti(L, -2, i - (a->script ? a->script : a->argc));
    }
    lua_setglobal(L, "arg");

    if (a->version)
        print_versions(L);

    /* task.main(chunk, ...) (ps.main) runs chunks as the first task and the
     * loop to the end.  Only a script that requires "pastream" loads the core. */
    lua_getglobal(L, "require");
    lua_pushliteral(L, "pastream.task");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "main");
    int ps_main = lua_gettop(L);

    for (int i = 0; i < a->ncode; i++) {
        lua_pushvalue(L, ps_main);
        if (luaL_loadbuffer(L, a->code[i], strlen(a->code[i]), "=(command line)") != LUA_OK)
            return lua_error(L);
        lua_call(L, 1, 0);
    }
    if (a->script) {
        const char *name = a->argv[a->script];
        int st = a->cli ? luaL_loadbuffer(L, cli_chunk, sizeof cli_chunk - 1, "=pastream")
               : strcmp(name, "-") == 0 ? luaL_loadfile(L, NULL) : luaL_loadfile(L, name);
        if (st != LUA_OK)
            return lua_error(L);
        lua_pushvalue(L, ps_main);
        lua_insert(L, -2);
        luaL_checkstack(L, nargs, "too many arguments to script");
        for (int i = 0; i < nargs; i++)
            lua_pushstring(L, a->argv[a->script + 1 + i]);
        lua_call(L, nargs + 1, 0);
    }
    return 0;
}

int main(int argc, char **argv)
{
    host_args a = { argc, argv, 0, NULL, 0, 0, 0 };
    const char *codes[64];
    int i;
    a.code = codes;
    if (argv[0] && argv[0][0])
        progname = argv[0];
    const char *base = argv[0] ? strrchr(argv[0], '/') : NULL;
    base = base ? base + 1 : argv[0] ? argv[0] : "";
    if (strcmp(base, "pastream") == 0) {
        /* every argument is the CLI's: arg[0] is the name it was run by */
        char **cargv = malloc(((size_t)argc + 2) * sizeof *cargv);
        if (!cargv)
            return 1;
        cargv[0] = cargv[1] = argv[0];
        for (i = 1; i <= argc; i++)
            cargv[i + 1] = argv[i];
        a.argv = cargv;
        a.argc = argc + 1;
        a.script = 1;
        a.cli = 1;
        goto run;
    }
    for (i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--") == 0) { i++; break; }
        if (strcmp(o, "-") == 0 || o[0] != '-') break;
        if (strcmp(o, "-v") == 0 || strcmp(o, "--version") == 0) a.version = 1;
        else if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) { usage(stdout); return 0; }
        else if (strcmp(o, "--recipes") == 0) return list_recipes();
        else if (strncmp(o, "-e", 2) == 0) {
            const char *code = o[2] ? o + 2 : (i + 1 < argc ? argv[++i] : NULL);
            if (!code) {
                fprintf(stderr, "%s: '-e' needs an argument\n", progname);
                usage(stderr);
                return 1;
            }
            if (a.ncode == 64) {
                fprintf(stderr, "%s: too many -e options\n", progname);
                return 1;
            }
            codes[a.ncode++] = code;
        } else {
            fprintf(stderr, "%s: unrecognized option '%s'\n", progname, o);
            usage(stderr);
            return 1;
        }
    }
    if (i < argc)
        a.script = i;
    /* a name that is neither a file nor a path: a bundled recipe */
    static char recipe[PATH_MAX + 384];
    if (a.script && strcmp(argv[i], "-") != 0 && !strchr(argv[i], '/') && !exists(argv[i])) {
        if (!find_recipe(argv[i], recipe, sizeof recipe)) {
            fprintf(stderr, "%s: cannot open %s: no such file, nor a bundled recipe"
                    " (%s --recipes lists them)\n", progname, argv[i], progname);
            return 1;
        }
        argv[i] = recipe;
    }
    if (!a.script && !a.ncode && !a.version) {
        if (isatty(0)) {
            usage(stderr);
            return 1;
        }
        /* like lua: no script and stdin is not a terminal: run stdin */
        static char dash[] = "-";
        static char *stdin_argv[3];
        stdin_argv[0] = argv[0];
        stdin_argv[1] = dash;
        a.argv = stdin_argv;
        a.argc = 2;
        a.script = 1;
    }

run:;
    uv_loop_t *loop = uv_default_loop();
    lua_State *L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "%s: cannot create a Lua state: not enough memory\n", progname);
        return 1;
    }
    open_libs(L, loop);
    lua_pushcfunction(L, traceback);
    lua_pushcfunction(L, pmain);
    lua_pushlightuserdata(L, &a);
    int status = lua_pcall(L, 1, 0, 1);
    int code = 0;
    if (status != LUA_OK) {
        /* a table with an integer `exit` (a signal's Interrupted error,
         * recipe.exit) sets the status and prints its message; any other
         * error value prints (its __tostring) and exits 1 */
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "exit");
            int has_exit = lua_isinteger(L, -1);
            code = has_exit ? (int)lua_tointeger(L, -1) : 1;
            lua_pop(L, 1);
            lua_getfield(L, -1, "message");
            if (has_exit && lua_isstring(L, -1))
                fprintf(stderr, "%s\n", lua_tostring(L, -1));
            else if (!has_exit)
                fprintf(stderr, "%s: %s\n", progname, luaL_tolstring(L, -2, NULL));
        } else {
            fprintf(stderr, "%s: %s\n", progname, lua_tostring(L, -1));
            code = 1;
        }
    }
    lua_close(L);           /* the core, if loaded, closes every stream (finalizing
                               files) and terminates PortAudio */
    uv_loop_close(loop);
    return code;
}
