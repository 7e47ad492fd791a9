/* tap.h - the smallest test harness: TAP lines the runner counts. */
#ifndef PARE_TAP_H
#define PARE_TAP_H
#include <stdio.h>
#include <string.h>

static int tap_failed;

#define TAP_OK(cond, ...)                                                      \
	do {                                                                   \
		int c_ = !!(cond);                                             \
		if (c_) {                                                      \
			printf("ok - ");                                       \
		} else {                                                       \
			printf("not ok - ");                                   \
			tap_failed++;                                          \
		}                                                              \
		printf(__VA_ARGS__);                                           \
		printf("%s\n", c_ ? "" : "  # at " __FILE__);              \
	} while (0)
#define TAP_STREQ(a, b, ...)                                                   \
	do {                                                                   \
		const char *a_ = (a), *b_ = (b);                               \
		int eq_ = a_ && b_ && !strcmp(a_, b_);                         \
		TAP_OK(eq_, __VA_ARGS__);                                      \
		if (!eq_)                                                      \
			printf("#   got '%s'\n#   want '%s'\n", a_ ? a_ : "(null)", \
			       b_ ? b_ : "(null)");                            \
	} while (0)
/* A test that cannot run here: counted as a skip, with the reason. */
#define TAP_SKIP(...)                                                          \
	do {                                                                   \
		printf("ok - ");                                               \
		printf(__VA_ARGS__);                                           \
		printf(" # skip\n");                                           \
	} while (0)
/* Setup that must work for the rest to mean anything: not a test; stop with status 2. */
#define TAP_REQUIRE(cond, ...)                                                 \
	do {                                                                   \
		if (!(cond)) {                                                 \
			printf("not ok - setup: ");                            \
			printf(__VA_ARGS__);                                   \
			printf("\n");                                          \
			return 2;                                              \
		}                                                              \
	} while (0)
#define TAP_DONE() return tap_failed ? 1 : 0
#endif
