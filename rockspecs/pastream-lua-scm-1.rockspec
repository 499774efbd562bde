-- pastream-lua as a rock: the module `require "pastream"` for plain Lua 5.4
-- (the C core pastream.core and the Lua modules).  The pastream-lua host
-- and the pastream command are built by the Makefile, not by this rock.
--
--   luarocks --lua-version 5.4 make rockspecs/pastream-lua-scm-1.rockspec
--
-- The C libraries are found as external dependencies (PORTAUDIO_DIR=...
-- and so on point luarocks elsewhere); on Debian they are the -dev packages
-- that scripts/install-deps.sh installs.  luv is a real run-time
-- dependency: where luarocks can reach its servers it installs the luv
-- rock; Debian's lua-luv package provides the same module outside
-- luarocks' manifest, so there say so with `rocks_provided` in a luarocks
-- config file (see README, Install) or pass --deps-mode none.
rockspec_format = "3.0"
package = "pastream-lua"
version = "scm-1"

source = {
  -- Built from a checkout with `luarocks make`: no source is fetched.
  url = "git+file://.",
}

description = {
  summary = "Realtime PortAudio streams, ring buffers and sound files for Lua 5.4",
  detailed = [[
A Lua-scriptable audio host: realtime PortAudio callbacks in C, lock-free
ring buffers, libsndfile disk threads, chunk iterators and file
play/record/playrec, driven from Lua with luv (libuv) and coroutines.
]],
  license = "MIT",
  labels = { "audio", "portaudio", "sndfile", "libuv" },
}

dependencies = {
  "lua >= 5.4, < 5.5",
  "luv",
}

external_dependencies = {
  PORTAUDIO = { header = "portaudio.h", library = "portaudio" },
  SNDFILE = { header = "sndfile.h", library = "sndfile" },
  SAMPLERATE = { header = "samplerate.h", library = "samplerate" },
  LIBUV = { header = "uv.h", library = "uv" },
  KISSFFT = { header = "kissfft/kiss_fftr.h", library = "kissfft-float" },
  LIBPNG = { header = "png.h", library = "png" },
}

build = {
  type = "builtin",
  modules = {
    ["pastream.core"] = {
      sources = {
        "src/ringbuf.c", "src/wake.c", "src/sample.c", "src/copy.c", "src/engine.c",
        "src/device.c", "src/jackwatch.c", "src/disk.c", "src/sfformat.c", "src/sigchain.c", "src/lbuffer.c",
        "src/lstream.c", "src/lstream_io.c", "src/lstream_props.c", "src/lwholefile.c",
        "src/lsoundfile.c", "src/lcore.c", "src/ldsp.c", "src/image.c", "src/lpicture.c",
      },
      -- kissfft's headers expect the scalar type its library was built with
      defines = { "_GNU_SOURCE", "kiss_fft_scalar=float" },
      incdirs = {
        "src", "$(PORTAUDIO_INCDIR)", "$(SNDFILE_INCDIR)", "$(SAMPLERATE_INCDIR)",
        "$(LIBUV_INCDIR)", "$(KISSFFT_INCDIR)/kissfft", "$(LIBPNG_INCDIR)",
      },
      libdirs = {
        "$(PORTAUDIO_LIBDIR)", "$(SNDFILE_LIBDIR)", "$(SAMPLERATE_LIBDIR)",
        "$(LIBUV_LIBDIR)", "$(KISSFFT_LIBDIR)", "$(LIBPNG_LIBDIR)",
      },
      libraries = { "portaudio", "sndfile", "samplerate", "uv", "kissfft-float", "png", "m", "pthread", "dl" },
    },
    ["pastream"] = "lua/pastream/init.lua",
    ["pastream.chunks"] = "lua/pastream/chunks.lua",
    ["pastream.process"] = "lua/pastream/process.lua",
    ["pastream.cli"] = "lua/pastream/cli.lua",
    ["pastream.devname"] = "lua/pastream/devname.lua",
    ["pastream.errors"] = "lua/pastream/errors.lua",
    ["pastream.options"] = "lua/pastream/options.lua",
    ["pastream.output"] = "lua/pastream/output.lua",
    ["pastream.recipe"] = "lua/pastream/recipe.lua",
    ["pastream.roundtrip"] = "lua/pastream/roundtrip.lua",
    ["pastream.run"] = "lua/pastream/run.lua",
    ["pastream.task"] = "lua/pastream/task.lua",
    ["pastream.picture"] = "lua/pastream/picture.lua",
    ["pastream.monitor"] = "lua/pastream/monitor.lua",
    ["pastream.wake"] = "lua/pastream/wake.lua",
  },
  -- the API reference goes with the rock (luarocks doc pastream-lua)
  copy_directories = { "doc" },
}
