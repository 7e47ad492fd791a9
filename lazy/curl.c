/* lazy/curl.c - the libcurl functions pare calls, loaded on first use (lazy.h).
 * One line a function: library, return type, name, the header's parameters, the call. */
#include <stdarg.h>

#include <curl/curl.h>

#include "lazy_int.h"

/* clang-format off */
LAZY_FREE(curl, curl_easy_cleanup, (CURL *a1), (a1))
LAZY(curl, char *, curl_easy_escape, (CURL *a1, const char *a2, int a3), (a1, a2, a3))
LAZY(curl, CURL *, curl_easy_init, (), ())
LAZY(curl, CURLcode, curl_easy_perform, (CURL *a1), (a1))
LAZY_VOID(curl, curl_easy_reset, (CURL *a1), (a1))
LAZY(curl, const char *, curl_easy_strerror, (CURLcode a1), (a1))
LAZY_FREE(curl, curl_free, (void *a1), (a1))
LAZY_VOID(curl, curl_global_cleanup, (void), ())
LAZY(curl, CURLcode, curl_global_init, (long int a1), (a1))
LAZY(curl, CURLMcode, curl_multi_add_handle, (CURLM *a1, CURL *a2), (a1, a2))
LAZY(curl, CURLMcode, curl_multi_cleanup, (CURLM *a1), (a1))
LAZY(curl, CURLMsg *, curl_multi_info_read, (CURLM *a1, int *a2), (a1, a2))
LAZY(curl, CURLM *, curl_multi_init, (), ())
LAZY(curl, CURLMcode, curl_multi_perform, (CURLM *a1, int *a2), (a1, a2))
LAZY(curl, CURLMcode, curl_multi_poll, (CURLM *a1, struct curl_waitfd *a2, unsigned int a3, int a4, int *a5), (a1, a2, a3, a4, a5))
LAZY(curl, CURLMcode, curl_multi_remove_handle, (CURLM *a1, CURL *a2), (a1, a2))
LAZY(curl, struct curl_slist *, curl_slist_append, (struct curl_slist *a1, const char *a2), (a1, a2))
LAZY_FREE(curl, curl_slist_free_all, (struct curl_slist *a1), (a1))
LAZY(curl, CURLU *, curl_url, (), ())
LAZY_FREE(curl, curl_url_cleanup, (CURLU *a1), (a1))
LAZY(curl, CURLUcode, curl_url_get, (CURLU *a1, CURLUPart a2, char **a3, unsigned int a4), (a1, a2, a3, a4))
LAZY(curl, CURLUcode, curl_url_set, (CURLU *a1, CURLUPart a2, const char *a3, unsigned int a4), (a1, a2, a3, a4))

/* The variadic three.  An option's number says the type of its one argument (curl.h:
 * CURLOPTTYPE_LONG 0, OBJECTPOINT (and STRING-, SLIST-, CBPOINT) 10000, FUNCTIONPOINT 20000,
 * OFF_T 30000, BLOB 40000, a struct curl_blob pointer), in curl_multi_setopt's CURLMoption
 * too; getinfo's is always a pointer. */
#define LAZY_SETOPT(r, fn, h, o, ap)                                    \
	do {                                                            \
		if ((o) < CURLOPTTYPE_OBJECTPOINT)                      \
			r = fn(h, o, va_arg(ap, long));                 \
		else if ((o) < CURLOPTTYPE_FUNCTIONPOINT)               \
			r = fn(h, o, va_arg(ap, void *));               \
		else if ((o) < CURLOPTTYPE_OFF_T)                       \
			r = fn(h, o, va_arg(ap, void (*)(void)));       \
		else if ((o) < CURLOPTTYPE_BLOB)                        \
			r = fn(h, o, va_arg(ap, curl_off_t));           \
		else                                                    \
			r = fn(h, o, va_arg(ap, void *));               \
	} while (0)

/* curl_easy_setopt and curl_multi_setopt: the same option numbering, one stub shape. */
#define LAZY_SETOPT_FN(ret, name, handle, option)          \
	ret(name)(handle * h, option o, ...)               \
	{                                                  \
		LAZY_FN(curl, name)                        \
		ret r;                                     \
		va_list ap;                                \
		va_start(ap, o);                           \
		LAZY_SETOPT(r, fn_, h, o, ap);             \
		va_end(ap);                                \
		return r;                                  \
	}

LAZY_SETOPT_FN(CURLcode, curl_easy_setopt, CURL, CURLoption)
LAZY_SETOPT_FN(CURLMcode, curl_multi_setopt, CURLM, CURLMoption)

CURLcode(curl_easy_getinfo)(CURL *h, CURLINFO info, ...)
{
	LAZY_FN(curl, curl_easy_getinfo)
	va_list ap;
	va_start(ap, info);
	CURLcode r = fn_(h, info, va_arg(ap, void *));
	va_end(ap);
	return r;
}
