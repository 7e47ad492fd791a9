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
 * something, with PARE_CHANGED="recipe recipe…", or that found CVEs newly
 * affecting an image, with PARE_NEW_CVES="ID ID…" and PARE_NEW_CVES_JSON (a
 * file with the findings).  Each cycle first syncs the CVE feeds when a
 * source is configured (--cve-from DIR, the URL flags, cve.conf; a failed
 * sync is one log line, the cached feeds are used) and records the
 * findings of recipes.lock in the response timeline (rebuild/cvehist.c), so
 * "new" survives a restart.  --cycles N stops after N cycles (tests,
 * cron-like use); docs/update.md, docs/cve.md.
 */
#define _GNU_SOURCE
#include "cli.h"
#include "../rebuild/rebuild.h"

#include <cJSON.h>
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
	const char *cve_from;
	const char *url[CVE_NFEEDS];
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
	case 0x200:
		w->cve_from = arg;
		return 0;
	case 0x201:
	case 0x202:
	case 0x203:
		w->url[c - 0x201] = arg;
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

static void run_exec(const char *cmd, const strvec *changed, const strvec *new_cves,
		     const char *new_json, long cycle)
{
	strbuf list = STRBUF_INIT, ids = STRBUF_INIT;
	pid_t pid;
	int st;

	for (size_t i = 0; i < changed->n; i++)
		sb_addf(&list, "%s%s", i ? " " : "", changed->v[i]);
	for (size_t i = 0; i < new_cves->n; i++)
		sb_addf(&ids, "%s%s", i ? " " : "", new_cves->v[i]);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		setenv("PARE_CHANGED", sb_str(&list), 1);
		setenv("PARE_NEW_CVES", sb_str(&ids), 1);
		if (new_json)
			setenv("PARE_NEW_CVES_JSON", new_json, 1);
		else
			unsetenv("PARE_NEW_CVES_JSON");
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
	sb_release(&ids);
}

/* The new findings as a file for --exec (pare-watch-new-cves/1, priority
 * order); NULL when it cannot be written (logged). */
static char *new_cves_file(const struct cve_report *r, const size_t *fresh, size_t n, long cycle)
{
	const char *tmp = getenv("TMPDIR");
	char *path = xasprintf("%s/pare-new-cves.XXXXXX", tmp && *tmp ? tmp : "/tmp"), *s;
	cJSON *j = cJSON_CreateObject(), *arr;
	int fd;

	cJSON_AddStringToObject(j, "schema", "pare-watch-new-cves/1");
	cJSON_AddNumberToObject(j, "cycle", (double)cycle);
	arr = cJSON_AddArrayToObject(j, "findings");
	for (size_t i = 0; i < n; i++) {
		const struct cve_finding *f = &r->findings[fresh[i]];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "image", r->subjects[f->subject].name);
		json_add_str_or_null(o, "arch", r->subjects[f->subject].arch);
		cJSON_AddStringToObject(o, "id", f->id);
		cJSON_AddStringToObject(o, "source", f->source);
		cJSON_AddStringToObject(o, "installed", f->installed);
		json_add_str_or_null(o, "fixed_version", f->fixed_version);
		cJSON_AddStringToObject(o, "class", cve_class_name(f->cls));
		rebuild_cve_risk_json(o, f);
		cJSON_AddItemToArray(arr, o);
	}
	s = cJSON_Print(j);
	cJSON_Delete(j);
	if ((fd = mkstemp(path)) < 0 || write_all(fd, s, strlen(s)) < 0 || fsync(fd) < 0) {
		log_line(cycle, "--exec: cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd), unlink(path);
		free(path);
		path = NULL;
	} else if (close(fd) != 0) {
		log_line(cycle, "--exec: cannot write %s: %s", path, strerror(errno));
		unlink(path);
		free(path);
		path = NULL;
	}
	free(s);
	return path;
}

/* Sync the feeds (when a source is configured), match recipes.lock and
 * record it in the timeline: new_cves gets the ids newly affecting an
 * image, *json the file of those findings.  Every failure is one log line. */
static void cve_cycle(const struct watch_args *w, const struct cve_config *c, bool sync,
		      const struct rebuild_opts *o, const strvec *names, long cycle,
		      strvec *new_cves, char **json)
{
	struct cve_subject *subs = NULL;
	struct cve_report r = { 0 };
	size_t n = 0, *fresh = NULL, nfresh = 0;
	perr ce = { 0, "" };

	if (sync && cve_sync(c, w->cve_from, o->lock, &ce) < 0)
		log_line(cycle, "CVE feeds not synced, using the cached ones: %s", ce.msg);
	if (!cve_synced() || !path_exists(o->lock))
		return;
	if (cve_lock_subjects(o->lock, o->recipes_dir, names, &subs, &n, &ce) < 0 ||
	    cve_match(c, subs, n, 0, &r, &ce) < 0 || cve_vex_apply_recipes(&r, &ce) < 0 ||
	    rebuild_history_observe(o->lock, &r, (int64_t)time(NULL), &fresh, &nfresh, &ce) < 0) {
		log_line(cycle, "CVE findings not recorded: %s", ce.msg);
		goto out;
	}
	if (nfresh) {
		strbuf l = STRBUF_INIT;
		for (size_t i = 0; i < nfresh; i++) {
			const struct cve_finding *f = &r.findings[fresh[i]];
			const struct cve_subject *s = &r.subjects[f->subject];
			sb_addf(&l, "%s%s/%s %s", i ? ", " : "", s->name, s->arch ? s->arch : "-", f->id);
			if (!sv_contains(new_cves, f->id))
				sv_push(new_cves, f->id);
		}
		log_line(cycle, "%zu CVE finding%s newly affect%s images: %s", nfresh,
			 nfresh == 1 ? "" : "s", nfresh == 1 ? "s" : "", l.buf);
		sb_release(&l);
		if (w->exec)
			*json = new_cves_file(&r, fresh, nfresh, cycle);
	}
out:
	free(fresh);
	cve_report_release(&r);
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
	struct cve_config c = { 0 };
	strvec files = STRVEC_INIT, names = STRVEC_INIT;
	bool sync = false;
	int n;

	if ((n = cli_update_parse(argc, argv, cli_watch_opts, &o, watch_opt, &w, e)) < 0)
		return -1;
	if (w.interval <= 0)
		return perr_set(e, "watch: --interval DURATION is required (e.g. 30s, 5m, 1h)");
	cli_recipe_files(argv + 1, n, &files);
	/* the recipes the timeline follows: those named (by file or name), else all */
	for (size_t k = 0; k < files.n; k++) {
		const char *b = path_basename(files.v[k]);
		size_t l = strlen(b);
		sv_push_nodup(&names, xstrndup(b, str_ends(b, ".yaml") ? l - 5 : l));
	}
	if (cve_config_load(&c, e) < 0) {
		sv_clear(&files), sv_clear(&names);
		return -1;
	}
	for (int f = 0; f < CVE_NFEEDS; f++)
		if (w.url[f]) {
			free(c.url[f]);
			c.url[f] = xstrdup(w.url[f]);
		}
	sync = w.cve_from != NULL;
	for (int f = 0; f < CVE_NFEEDS; f++)
		sync |= c.url[f] != NULL;
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (long cycle = 1; !stop; cycle++) {
		strvec rebuilt = STRVEC_INIT, new_cves = STRVEC_INIT, none = STRVEC_INIT;
		char *json = NULL;
		perr ce = { 0, "" };

		cve_cycle(&w, &c, sync, &o, &names, cycle, &new_cves, &json);
		if (rebuild_update(&files, &o, &rebuilt, &ce) < 0) {
			log_line(cycle, "failed, retrying next cycle: %s", ce.msg);
		} else if (!rebuilt.n) {
			log_line(cycle, "up to date");
		} else {
			strbuf l = STRBUF_INIT;
			strvec changed = STRVEC_INIT;
			for (size_t k = 0; k < rebuilt.n; k++) {
				sb_addf(&l, "%s%s", k ? ", " : "", rebuilt.v[k]);
				sv_push_nodup(&changed, xstrndup(rebuilt.v[k], strcspn(rebuilt.v[k], " ")));
			}
			log_line(cycle, "rebuilt %s", l.buf);
			sb_release(&l);
			if (w.exec)
				run_exec(w.exec, &changed, &new_cves, json, cycle);
			sv_clear(&changed);
		}
		/* new CVEs and nothing rebuilt: the hook still hears of them */
		if (w.exec && new_cves.n && !rebuilt.n)
			run_exec(w.exec, &none, &new_cves, json, cycle);
		if (json)
			unlink(json);
		free(json);
		sv_clear(&new_cves);
		sv_clear(&rebuilt);
		if (w.cycles && cycle >= w.cycles)
			break;
		sleep_interruptibly(w.interval);
	}
	if (stop)
		note("watch: stopped by a signal");
	sv_clear(&files);
	sv_clear(&names);
	cve_config_release(&c);
	return 0;
}
