/* lazy/archive.c - the libarchive functions pare calls, loaded on first use (lazy.h).
 * One line a function: library, return type, name, the header's parameters, the call. */
#include <stdarg.h>
#include <stdio.h>

#include <archive.h>
#include <archive_entry.h>

#include "lazy_int.h"

/* clang-format off */
LAZY(archive, struct archive_entry *, archive_entry_clear, (struct archive_entry *a1), (a1))
LAZY(archive, mode_t, archive_entry_filetype, (struct archive_entry *a1), (a1))
LAZY_FREE(archive, archive_entry_free, (struct archive_entry *a1), (a1))
LAZY(archive, la_int64_t, archive_entry_gid, (struct archive_entry *a1), (a1))
LAZY(archive, const char *, archive_entry_hardlink, (struct archive_entry *a1), (a1))
LAZY(archive, mode_t, archive_entry_mode, (struct archive_entry *a1), (a1))
LAZY(archive, time_t, archive_entry_mtime, (struct archive_entry *a1), (a1))
LAZY(archive, int, archive_entry_mtime_is_set, (struct archive_entry *a1), (a1))
LAZY(archive, struct archive_entry *, archive_entry_new, (), ())
LAZY(archive, const char *, archive_entry_pathname, (struct archive_entry *a1), (a1))
LAZY(archive, mode_t, archive_entry_perm, (struct archive_entry *a1), (a1))
LAZY_VOID(archive, archive_entry_set_filetype, (struct archive_entry *a1, unsigned int a2), (a1, a2))
LAZY_VOID(archive, archive_entry_set_gid, (struct archive_entry *a1, la_int64_t a2), (a1, a2))
LAZY_VOID(archive, archive_entry_set_hardlink, (struct archive_entry *a1, const char *a2), (a1, a2))
LAZY_VOID(archive, archive_entry_set_mtime, (struct archive_entry *a1, time_t a2, long int a3), (a1, a2, a3))
LAZY_VOID(archive, archive_entry_set_pathname, (struct archive_entry *a1, const char *a2), (a1, a2))
LAZY_VOID(archive, archive_entry_set_perm, (struct archive_entry *a1, mode_t a2), (a1, a2))
LAZY_VOID(archive, archive_entry_set_size, (struct archive_entry *a1, la_int64_t a2), (a1, a2))
LAZY_VOID(archive, archive_entry_set_symlink, (struct archive_entry *a1, const char *a2), (a1, a2))
LAZY_VOID(archive, archive_entry_set_uid, (struct archive_entry *a1, la_int64_t a2), (a1, a2))
LAZY(archive, la_int64_t, archive_entry_size, (struct archive_entry *a1), (a1))
LAZY(archive, const char *, archive_entry_symlink, (struct archive_entry *a1), (a1))
LAZY(archive, la_int64_t, archive_entry_uid, (struct archive_entry *a1), (a1))
LAZY(archive, int, archive_errno, (struct archive *a1), (a1))
LAZY(archive, const char *, archive_error_string, (struct archive *a1), (a1))
LAZY(archive, la_ssize_t, archive_read_data, (struct archive *a1, void *a2, size_t a3), (a1, a2, a3))
LAZY(archive, int, archive_read_data_block, (struct archive *a1, const void **a2, size_t *a3, la_int64_t *a4), (a1, a2, a3, a4))
LAZY(archive, int, archive_read_free, (struct archive *a1), (a1))
LAZY(archive, struct archive *, archive_read_new, (), ())
LAZY(archive, int, archive_read_next_header, (struct archive *a1, struct archive_entry **a2), (a1, a2))
LAZY(archive, int, archive_read_open, (struct archive *a1, void *a2, archive_open_callback (*a3), archive_read_callback (*a4), archive_close_callback (*a5)), (a1, a2, a3, a4, a5))
LAZY(archive, int, archive_read_open_fd, (struct archive *a1, int a2, size_t a3), (a1, a2, a3))
LAZY(archive, int, archive_read_open_filename, (struct archive *a1, const char *a2, size_t a3), (a1, a2, a3))
LAZY(archive, int, archive_read_open_memory, (struct archive *a1, const void *a2, size_t a3), (a1, a2, a3))
LAZY(archive, int, archive_read_support_filter_all, (struct archive *a1), (a1))
LAZY(archive, int, archive_read_support_filter_gzip, (struct archive *a1), (a1))
LAZY(archive, int, archive_read_support_format_ar, (struct archive *a1), (a1))
LAZY(archive, int, archive_read_support_format_raw, (struct archive *a1), (a1))
LAZY(archive, int, archive_read_support_format_tar, (struct archive *a1), (a1))
LAZY(archive, int, archive_write_add_filter_zstd, (struct archive *a1), (a1))
LAZY(archive, int, archive_write_close, (struct archive *a1), (a1))
LAZY(archive, la_ssize_t, archive_write_data, (struct archive *a1, const void *a2, size_t a3), (a1, a2, a3))
LAZY(archive, int, archive_write_free, (struct archive *a1), (a1))
LAZY(archive, int, archive_write_header, (struct archive *a1, struct archive_entry *a2), (a1, a2))
LAZY(archive, struct archive *, archive_write_new, (), ())
LAZY(archive, int, archive_write_open, (struct archive *a1, void *a2, archive_open_callback (*a3), archive_write_callback (*a4), archive_close_callback (*a5)), (a1, a2, a3, a4, a5))
LAZY(archive, int, archive_write_open_fd, (struct archive *a1, int a2), (a1, a2))
LAZY(archive, int, archive_write_set_bytes_in_last_block, (struct archive *a1, int a2), (a1, a2))
LAZY(archive, int, archive_write_set_bytes_per_block, (struct archive *a1, int a2), (a1, a2))
LAZY(archive, int, archive_write_set_filter_option, (struct archive *a1, const char *a2, const char *a3, const char *a4), (a1, a2, a3, a4))
LAZY(archive, int, archive_write_set_format_pax_restricted, (struct archive *a1), (a1))
LAZY(archive, int, archive_write_set_format_raw, (struct archive *a1), (a1))

/* Called by the tests only (tests/unit, tests/fuzz), which link this library too. */
LAZY(archive, int, archive_entry_atime_is_set, (struct archive_entry *a1), (a1))
LAZY(archive, int, archive_entry_ctime_is_set, (struct archive_entry *a1), (a1))
LAZY(archive, const char *, archive_entry_gname, (struct archive_entry *a1), (a1))
LAZY(archive, const char *, archive_entry_uname, (struct archive_entry *a1), (a1))
LAZY(archive, int, archive_write_add_filter_gzip, (struct archive *a1), (a1))
LAZY(archive, int, archive_write_add_filter_xz, (struct archive *a1), (a1))
LAZY(archive, int, archive_write_open_filename, (struct archive *a1, const char *a2), (a1, a2))
LAZY(archive, int, archive_write_open_memory, (struct archive *a1, void *a2, size_t a3, size_t *a4), (a1, a2, a3, a4))
LAZY(archive, int, archive_write_set_format_ar_svr4, (struct archive *a1), (a1))

/* The one variadic: formatted here, passed on as "%s". */
void archive_set_error(struct archive *a, int err, const char *fmt, ...)
{
	LAZY_FN(archive, archive_set_error)
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fn_(a, err, "%s", msg);
}
