/* Sound file format names and opening files ("-" = stdin/stdout). */
#ifndef PS_SFFORMAT_H
#define PS_SFFORMAT_H

#include <sndfile.h>
#include <stddef.h>

#include "sample.h"

/* Codes from names (case-insensitive), or -1. */
int ps_sf_major(const char *name);        /* "wav" -> SF_FORMAT_WAV */
int ps_sf_subtype(const char *name);      /* "pcm_16" -> SF_FORMAT_PCM_16 */
int ps_sf_endian(const char *name);       /* "little" -> SF_ENDIAN_LITTLE */
/* Names from a format word ("?" if unknown). */
const char *ps_sf_major_name(int format);
const char *ps_sf_subtype_name(int format);
const char *ps_sf_endian_name(int format);
/* Comma-separated lists of the names, for error messages. */
void ps_sf_list_majors(char *buf, size_t len);
void ps_sf_list_subtypes(char *buf, size_t len);

/* The major format of a path's extension, or 0. */
int ps_sf_major_from_path(const char *path);
/* The subtype a path's extension implies (.opus: SF_FORMAT_OPUS), or 0. */
int ps_sf_subtype_from_path(const char *path);
/* The subtype a recording in `major` gets for device samples of format f:
 * the same samples where the file type allows (as pastream does). */
int ps_sf_subtype_for(int major, ps_format f);

/* Whether libsndfile really writes info's format: sf_format_check accepts
 * a few it cannot write (AIFF with DWVW_12 fails at the first write:
 * "unimplemented format").  One frame is written into a virtual file that
 * keeps nothing, so a caller can refuse the format before it creates or
 * truncates anything.  Returns 0, or -1 with libsndfile's message in err. */
int ps_sf_probe_write(const SF_INFO *info, char *err, size_t errlen);

/* sf_open, with "-" meaning stdin (SFM_READ) or stdout (SFM_WRITE).
 * *is_pipe is set when the file cannot seek.  NULL on error (sf_strerror(NULL)). */
SNDFILE *ps_sf_open(const char *path, int mode, SF_INFO *info, int *is_pipe);
/* sf_close for a file from ps_sf_open: a pipe's header that waited for
 * samples that never came is written out. */
int ps_sf_close(SNDFILE *sf);
/* Why ps_sf_open(path) failed (call right after it). */
const char *ps_sf_open_error(const char *path);

#endif
