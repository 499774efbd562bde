/* Shared by the Lua binding files (lbuffer.c, lstream.c, lwholefile.c,
 * lsoundfile.c, ldsp.c, lpicture.c, lcore.c). */
#ifndef PS_LPASTREAM_H
#define PS_LPASTREAM_H

#include <lauxlib.h>
#include <lua.h>
#include <stdatomic.h>
#include <stdint.h>

#include <sndfile.h>

#include "sample.h"

#define PS_BUFFER "pastream.Buffer"
#define PS_STREAM "pastream.Stream"
#define PS_VERSION "0.1.0"

/* Sample memory lives outside the Lua heap and is reference counted, so a
 * running stream keeps the memory it plays or records into alive even when
 * the garbage collector finalizes the Buffer first. */
typedef struct ps_mem {
    atomic_int refs;
    size_t bytes;
    unsigned char data[];
} ps_mem;

ps_mem *ps_mem_new(size_t bytes);       /* zeroed; refs = 1; NULL if out of memory */
ps_mem *ps_mem_ref(ps_mem *m);
void    ps_mem_populate(ps_mem *m); /* every page present and writable now (NULL: no-op) */
void    ps_mem_unref(ps_mem *m);        /* NULL is a no-op */

typedef struct ps_buffer {
    ps_mem *mem;
    int64_t frames;
    int channels;
    ps_format format;
} ps_buffer;

ps_buffer *ps_checkbuffer(lua_State *L, int idx);
ps_buffer *ps_newbuffer(lua_State *L, int64_t frames, int channels, ps_format f);
static inline size_t ps_buffer_framebytes(const ps_buffer *b)
{
    return (size_t)b->channels * ps_format_size(b->format);
}
ps_format ps_checkformat(lua_State *L, int idx, const char *def);
/* Channel argument idx of a Buffer function: nil or 0 = every channel (0),
 * else 1..channels; raises naming the argument. */
int ps_optchannel(lua_State *L, const ps_buffer *b, int idx);

int luaopen_pastream_buffer(lua_State *L);   /* leaves the Buffer constructor */
int luaopen_pastream_stream(lua_State *L);   /* leaves the Stream constructor */

/* Functions into the table on top: */
void ps_wholefile_functions(lua_State *L); /* save, load, file_info, formats,
                                              type_from_name (lwholefile.c) */
void ps_stream_functions(lua_State *L);    /* stream_count (lstream.c) */
void ps_soundfile_functions(lua_State *L); /* open and the SoundFile type (lsoundfile.c) */

/* File options shared by the file calls (lwholefile.c).  The format word
 * from {type, subtype (or encoding), endian} at index t, the major type
 * defaulting to `major`; *subtype_given says whether a subtype was named.
 * Raises on an unknown name. */
int ps_sf_format_word(lua_State *L, int t, int major, int *subtype_given);
/* SF_INFO to open path for reading with the options at t (a RAW file needs
 * samplerate, channels and subtype): NULL, or the name of what is missing. */
const char *ps_sf_read_info(lua_State *L, int t, const char *path, SF_INFO *info);
/* Integer option k of the table at t (def when absent or t is no table). */
lua_Integer ps_optfieldint(lua_State *L, int t, const char *k, lua_Integer def);
/* The expected-failure return: nil and the formatted message.  Returns 2. */
int ps_fail(lua_State *L, const char *fmt, ...);
void ps_dsp_functions(lua_State *L);      /* core.dsp, buf:apply_window, buf:gain_db (ldsp.c) */
void ps_picture_functions(lua_State *L);  /* Spectrogram, Waveform, read_png (lpicture.c) */
int ps_wake_fd(lua_State *L);
int ps_clear_wake(lua_State *L);

/* Close every stream still open (SIGINT/SIGTERM in the host, and exit). */
void ps_close_all_streams(void);

#endif
