/*
 * cmd_watch.c - pare watch --interval DURATION [--exec CMD] [--cycles N]
 *               [update options] [RECIPE…]
 *
 * pare update on a schedule.  Each cycle logs one line to stdout
 * ("TIME cycle N: …").  A failing cycle (network down, a rollback, a bad
 * signature) is logged and retried next cycle; update writes nothing unless
 * it all succeeded, so the previous good output stays.  SIGTERM / SIGINT
 * stop it between cycles (a cycle in progress finishes first), exit 0.
 * --exec CMD runs (/bin/sh -c, on the host) after a cycle that rebuilt
 * something, with PARE_CHANGED="recipe recipe…".  --cycles N stops after N
 * cycles (tests, cron-like use).
 */
#define _GNU_SOURCE
#include "cli.h"
#include "../rebuild/rebuild.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct watch_args {
	double interval;   /* seconds */
	const char *exec;
	long cycles;       /* 0 = until stopped */
};

static int watch_opt(int c, const char *arg, void *ctx, perr *e)
{
	struct watch_args *w = ctx;
	char *end;

	switch (c) {
	case 'i':
		if (rebuild_parse_duration(arg, &w->interval) < 0)
			return perr_set(e, "watch: bad --interval '%s' (e.g. 30s, 5m, 1h)", arg);
		return 0;
	case 'x':
		w->exec = arg;
		return 0;
	case 'n':
		w->cycles = strtol(arg, &end, 10);
		if (*end || w->cycles < 1)
			return perr_set(e, "watch: --cycles must be a positive number");
		return 0;
	}
	return perr_set(e, "watch: unknown option");
}

static void log_line(long cycle, const char *fmt, ...) PRINTF(2, 3);
static void log_line(long cycle, const char *fmt, ...)
{
	char ts[TIME_RFC3339_LEN];
	va_list ap;

	time_rfc3339(time(NULL), ts);
	printf("%s cycle %ld: ", ts, cycle);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void run_exec(const char *cmd, const strvec *changed, long cycle)
{
	strbuf list = STRBUF_INIT;
	pid_t pid;
	int st;

	for (size_t i = 0; i < changed->n; i++)
		sb_addf(&list, "%s%s", i ? " " : "", changed->v[i]);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		setenv("PARE_CHANGED", sb_str(&list), 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (pid < 0) {
		log_line(cycle, "--exec: cannot fork: %s", strerror(errno));
	} else {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			log_line(cycle, "--exec failed (status %d)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	sb_release(&list);
}

/* Sleep up to secs, returning early when a signal asked us to stop. */
static void sleep_interruptibly(double secs)
{
	struct timespec end, now;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)secs;
	end.tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
	if (end.tv_nsec >= 1000000000L)
		end.tv_sec++, end.tv_nsec -= 1000000000L;
	while (!stop) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			break;
		/* short naps: a signal may arrive between the check and the nap */
		struct timespec nap = { 0, 100000000L };
		nanosleep(&nap, NULL);
	}
}

int cmd_watch(int argc, char **argv, perr *e)
{
	struct rebuild_opts o = { 0 };
	struct watch_args w = { 0 };
	struct sigaction sa = { 0 };
	strvec files = STRVEC_INIT;
	int n;

	if ((n = cli_update_parse(argc, argv, cli_watch_opts, &o, watch_opt, &w, e)) < 0)
		return -1;
	if (w.interval <= 0)
		return perr_set(e, "watch: --interval DURATION is required (e.g. 30s, 5m, 1h)");
	cli_recipe_files(argv + 1, n, &files);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (long cycle = 1; !stop; cycle++) {
		strvec rebuilt = STRVEC_INIT;
		perr ce = { 0, "" };
		if (rebuild_update(&files, &o, &rebuilt, &ce) < 0) {
			log_line(cycle, "failed, retrying next cycle: %s", ce.msg);
		} else if (!rebuilt.n) {
			log_line(cycle, "up to date");
		} else {
			strbuf l = STRBUF_INIT;
			strvec names = STRVEC_INIT;
			for (size_t k = 0; k < rebuilt.n; k++) {
				sb_addf(&l, "%s%s", k ? ", " : "", rebuilt.v[k]);
				sv_push_nodup(&names, xstrndup(rebuilt.v[k], strcspn(rebuilt.v[k], " ")));
			}
			log_line(cycle, "rebuilt %s", l.buf);
			sb_release(&l);
			if (w.exec)
				run_exec(w.exec, &names, cycle);
			sv_clear(&names);
		}
		sv_clear(&rebuilt);
		if (w.cycles && cycle >= w.cycles)
			break;
		sleep_interruptibly(w.interval);
	}
	if (stop)
		note("watch: stopped by a signal");
	sv_clear(&files);
	return 0;
}
