/* SPDX-License-Identifier: ISC */
/* supd: read the job file, supervise the jobs, serve the control socket. */
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <systemd/sd-event.h>
#include "cgroup.h"
#include "commands.h"
#include "config.h"
#include "control.h"
#include "history.h"
#include "log.h"
#include "proto.h"
#include "recovery.h"
#include "reload.h"
#include "runids.h"
#include "statelock.h"
#include "sd.h"
#include "spawn.h"
#include "supervisor.h"

struct daemon {
	sd_event *event;
	const char *config_path;
	struct supervisor *sup;
	struct commands *cmds;
	struct control *ctl;
	char *socket_path;
	bool socket_bound;          /* ours to unlink (not socket-activated) */
	sd_event_source *status_timer;
	struct job_observer status_observer;
	struct history *history;     /* NULL: runs are not recorded */
	struct runids *runids;       /* NULL: numbers from the history only */
	int state_lock;
	struct cgroups *cgroups;     /* NULL: runs are contained by process groups only */
	struct job_observer history_observer;
	bool notify;
};

static void usage(FILE *out) {
	fprintf(out,
		"Usage: supd [-c FILE] [--check] [--socket PATH] [-v] [--log stderr|journal]\n"
		"\n"
		"Supervise the jobs of an INI file and serve supctl on a Unix socket.\n"
		"\n"
		"  -c, --config FILE   configuration (default: $SUPD_CONFIG, /etc/supd/supd.conf\n"
		"                      as root, else $XDG_CONFIG_HOME/supd/supd.conf)\n"
		"      --check         validate the configuration, print errors as FILE:LINE: message\n"
		"                      (with -v: print the normalised configuration)\n"
		"  -s, --socket PATH   control socket (overrides [supd] socket)\n"
		"      --log TARGET    stderr or journal (default: journal when started by systemd)\n"
		"  -v, --verbose       log state transitions\n"
		"      --version       print the version\n"
		"  -h, --help          this text\n");
}

static char *default_config_path(void) {
	const char *e = getenv("SUPD_CONFIG");
	if (e && *e)
		return xstrdup(e);
	if (geteuid() == 0)
		return xstrdup(SYSCONFDIR "/supd/supd.conf");
	e = getenv("XDG_CONFIG_HOME");
	if (e && *e)
		return xasprintf("%s/supd/supd.conf", e);
	e = getenv("HOME");
	return xasprintf("%s/.config/supd/supd.conf", e ? e : "");
}

static char *default_socket_path(const struct supd_config *c) {
	return c->socket ? xstrdup(c->socket) : proto_default_socket_path();
}

/* mkdir -p for the directory that will hold path. */
static int make_parent_dirs(const char *path, mode_t mode) {
	_cleanup_free_ char *copy = xstrdup(path);
	char *dir = dirname(copy);

	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void print_errors(const struct config_errors *errs) {
	for (size_t i = 0; i < errs->n_warnings; i++)
		fprintf(stderr, "%s\n", errs->warnings[i]);
	for (size_t i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", errs->v[i]);
}

static char *status_line(const struct supervisor *s) {
	struct buf b = { 0 };
	static const enum job_state shown[] = { JOB_RUNNING, JOB_STARTING, JOB_WAITING, JOB_QUEUED, JOB_BACKOFF,
						 JOB_STOPPING, JOB_FAILED, JOB_FATAL };

	for (size_t i = 0; i < ELEMENTSOF(shown); i++)
		if (s->host.counts[shown[i]] > 0 || shown[i] == JOB_RUNNING)
			buf_appendf(&b, "%s%u %s", b.len ? ", " : "", s->host.counts[shown[i]],
				    job_state_to_string(shown[i]));
	buf_appendf(&b, " (%zu jobs)", s->n_jobs);
	return b.data;
}

static int on_status_timer(sd_event_source *es, uint64_t usec, void *userdata) {
	struct daemon *d = userdata;
	_cleanup_free_ char *st = status_line(d->sup);
	sd_glue_status(st);
	return 0;
}

/* STATUS= follows job changes, at most every 200ms. */
static void on_job_changed_status(struct job *j, enum job_event ev, void *userdata) {
	struct daemon *d = userdata;
	int enabled = 0;

	if (!d->notify || ev != JOB_EVENT_STATE)
		return;
	if (d->status_timer && sd_event_source_get_enabled(d->status_timer, &enabled) >= 0 && enabled)
		return;
	int r = d->status_timer
		? sd_event_source_set_time_relative(d->status_timer, 200 * USEC_PER_MSEC)
		: sd_event_add_time_relative(d->event, &d->status_timer, CLOCK_MONOTONIC, 200 * USEC_PER_MSEC,
					     10 * USEC_PER_MSEC, on_status_timer, d);
	if (r >= 0)
		r = sd_event_source_set_enabled(d->status_timer, SD_EVENT_ONESHOT);
	if (r < 0)
		log_debug("cannot schedule a status update: %s", strerror(-r));
}

static json_t *strv_to_json(char **v) {
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *do_reload(void *userdata) {
	struct daemon *d = userdata;
	struct config_errors errs = { 0 };
	struct supd_config *c = NULL;
	json_t *reply;

	sd_glue_reloading();
	log_info("reloading %s", d->config_path);
	int r = config_load(d->config_path, &c, &errs);
	for (size_t i = 0; i < errs.n_warnings; i++)
		log_warnx("reload: %s", errs.warnings[i]);
	if (r < 0) {
		json_t *list = json_array();
		for (size_t i = 0; i < errs.n; i++) {
			log_warnx("reload: %s", errs.v[i]);
			json_array_append_new(list, json_string(errs.v[i]));
		}
		reply = json_pack("{s:b, s:s, s:o}", "ok", false, "error", "configuration has errors, nothing changed",
				  "errors", list);
	} else {
		struct reload_result res;
		if (!streq_ptr(c->socket, d->sup->config->socket))
			log_warnx("reload: a new socket path takes effect when supd restarts");
		if (c->cgroup_mode != d->sup->config->cgroup_mode || !streq_ptr(c->cgroup_path, d->sup->config->cgroup_path))
			log_warnx("reload: a new cgroup takes effect when supd restarts");
		supervisor_reload(d->sup, c, &res);
		log_info("reloaded: %zu added, %zu removed, %zu changed", strv_length(res.added),
			 strv_length(res.removed), strv_length(res.changed));
		reply = json_pack("{s:b, s:o, s:o, s:o}", "ok", true, "added", strv_to_json(res.added),
				  "removed", strv_to_json(res.removed), "changed", strv_to_json(res.changed));
		reload_result_free(&res);
	}
	config_errors_clear(&errs);
	_cleanup_free_ char *st = status_line(d->sup);
	sd_glue_ready(st);
	return reply;
}

static void on_idle_after_shutdown(struct supervisor *s) {
	(void) sd_event_exit(s->host.event, 0);
}

/* Shutdown signalled a job after those that require it (SPEC §7): under
 * systemd, TimeoutStopSec= then bounds each such step, not the chain.
 * Sent when it moves the deadline by more than a second, not once per job
 * of a step; each step still gets its stop_timeout and 4 s more. */
static void on_stop_step(struct supervisor *s, usec_t stop_timeout) {
	static usec_t deadline;
	usec_t now = now_usec(CLOCK_MONOTONIC), extend = stop_timeout + 5 * USEC_PER_SEC;

	(void) s;
	if (now + extend <= deadline + USEC_PER_SEC)
		return;
	deadline = now + extend;
	sd_glue_extend_timeout(extend);
}

static void do_shutdown(void *userdata) {
	struct daemon *d = userdata;
	if (supervisor_shutting_down(d->sup))
		return;
	log_info("stopping all jobs");
	sd_glue_stopping();
	supervisor_shutdown(d->sup);
}

static int on_term(sd_event_source *es, const struct signalfd_siginfo *si, void *userdata) {
	do_shutdown(userdata);
	return 0;
}

static int on_hup(sd_event_source *es, const struct signalfd_siginfo *si, void *userdata) {
	json_decref(do_reload(userdata));
	return 0;
}

/* SIGUSR1 (logrotate's postrotate, supctl reopen): every log file supd
 * writes is opened again by name. */
static void do_reopen(void *userdata) {
	struct daemon *d = userdata;

	log_info("reopening log files");
	if (d->history)
		history_reopen(d->history);
	supervisor_reopen_logs(d->sup);
}

static int on_usr1(sd_event_source *es, const struct signalfd_siginfo *si, void *userdata) {
	do_reopen(userdata);
	return 0;
}

/* SPEC §11: no stray signal ends supd. Those not handled as events are
 * ignored here (jobs get every action back at its default, spawn.c). */
static void ignore_signals(void) {
	static const int ignored[] = {
		SIGPIPE, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGXFSZ,
	};
	struct sigaction ign = { .sa_handler = SIG_IGN };

	for (size_t i = 0; i < ELEMENTSOF(ignored); i++)
		if (sigaction(ignored[i], &ign, NULL) < 0)
			fatal("ignoring signal %d", ignored[i]);
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		(void) sigaction(sig, &ign, NULL);   /* those glibc keeps for itself refuse */
}

/* Children and supd itself need valid 0, 1, 2 even if started without. */
static void ensure_std_fds(void) {
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0) {
			int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
			if (n < 0)
				fatal("open /dev/null");
			if (n != fd)
				fatalx("cannot set up fd %d", fd);
		}
}

/* Thousands of jobs with captured output and clients need more than the
 * usual 1024 fds; jobs get the original limit back (spawn.c). */
static void raise_fd_limit(void) {
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	spawn_set_child_nofile(&rl);
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit raised = { .rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max };
		if (setrlimit(RLIMIT_NOFILE, &raised) < 0)
			log_warn("cannot raise the fd limit to %llu", (unsigned long long) rl.rlim_max);
	}
}

static int resolve_group(const char *name, gid_t *gid) {
	errno = 0;
	struct group *gr = getgrnam(name);
	if (!gr)
		return errno ? -errno : -ESRCH;
	*gid = gr->gr_gid;
	return 0;
}

/* The state directory (created if missing), or NULL if unusable. */
static char *setup_state_dir(const struct supd_config *c) {
	_cleanup_free_ char *dir = NULL;
	const char *e;

	if (c->state_dir)
		dir = xstrdup(c->state_dir);
	else if ((e = getenv("STATE_DIRECTORY")) && *e)
		dir = xstrndup(e, strcspn(e, ":"));
	else if (geteuid() == 0)
		dir = xstrdup(LOCALSTATEDIR "/lib/supd");
	else if ((e = getenv("XDG_STATE_HOME")) && *e)
		dir = xasprintf("%s/supd", e);
	else
		dir = xasprintf("%s/.local/state/supd", getenv("HOME") ? getenv("HOME") : "");
	_cleanup_free_ char *probe = xasprintf("%s/.", dir);
	int r = make_parent_dirs(probe, 0755);
	if (r < 0) {
		log_warnx("cannot create state_dir %s: %s; runs are not recorded", dir, strerror(-r));
		return NULL;
	}
	return TAKE_PTR(dir);
}

int main(int argc, char **argv) {
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'C' },
		{ "socket", required_argument, NULL, 's' },
		{ "log", required_argument, NULL, 'L' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct daemon d = { 0 };
	_cleanup_free_ char *config_path = NULL;
	const char *socket_opt = NULL;
	bool check = false, verbose = false;
	enum log_target target = sd_glue_stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_STDERR;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "c:s:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': free(config_path); config_path = xstrdup(optarg); break;
		case 'C': check = true; break;
		case 's': socket_opt = optarg; break;
		case 'v': verbose = true; break;
		case 'L':
			if (strcmp(optarg, "journal") == 0)
				target = LOG_TARGET_JOURNAL;
			else if (strcmp(optarg, "stderr") == 0)
				target = LOG_TARGET_STDERR;
			else {
				fprintf(stderr, "supd: --log takes stderr or journal\n");
				return 2;
			}
			break;
		case 'V': printf("supd %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "supd: unexpected argument: %s\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	log_init("supd", target, LOG_INFO);
	log_set_verbose(verbose);
	if (!config_path)
		config_path = default_config_path();
	d.config_path = config_path;

	struct config_errors errs = { 0 };
	struct supd_config *c = NULL;
	r = config_load(config_path, &c, &errs);
	print_errors(&errs);   /* and warnings */
	config_errors_clear(&errs);
	if (r < 0)
		return 1;
	gid_t control_gid = 0;
	bool have_group = false;
	if (c->control_group) {
		r = resolve_group(c->control_group, &control_gid);
		if (r < 0 && !check) {
			fprintf(stderr, "%s: control_group %s: %s\n", config_path, c->control_group,
				r == -ESRCH ? "no such group" : strerror(-r));
			config_free(c);
			return 1;
		}
		if (r < 0)   /* valid as written; this machine lacks the group */
			fprintf(stderr, "%s: warning: control_group %s does not exist here, supd will not start\n",
				config_path, c->control_group);
		have_group = r >= 0;
	}
	if (check) {
		/* --verbose: stdout is the normalised config, which parses back */
		if (verbose)
			config_dump(c, stdout);
		fprintf(verbose ? stderr : stdout, "%s: configuration OK (%zu jobs)\n", config_path, c->n_jobs);
		config_free(c);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "supd: cannot write to stdout: %s\n", strerror(errno));
			return 1;
		}
		return 0;
	}

	ensure_std_fds();
	raise_fd_limit();
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		fatal("sigprocmask");
	ignore_signals();
	/* orphaned grandchildren of jobs come to us, so we can reap them */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_warn("cannot become a child subreaper");

	r = sd_event_default(&d.event);
	if (r < 0)
		fatalx("sd_event_default: %s", strerror(-r));
	_cleanup_free_ char *state_dir = setup_state_dir(c);
	/* a state_dir that cannot even hold the lock holds no history either:
	 * supd runs on without both, or a second supd on it would take the
	 * first one's runs for lost and kill them */
	d.state_lock = state_dir ? statelock_take(state_dir) : -1;
	if (d.state_lock == -EBUSY) {
		config_free(c);
		sd_event_unref(d.event);
		return 1;
	}
	/* after the lock: the sweep kills what a supd that died on this
	 * state_dir left, never a live one's runs */
	if (cgroups_setup(c, state_dir, d.state_lock >= 0, d.event, &d.cgroups) < 0) {
		config_free(c);
		sd_event_unref(d.event);
		return 1;
	}
	d.socket_path = socket_opt ? xstrdup(socket_opt) : default_socket_path(c);

	int listen_fd = sd_glue_listen_fd();
	if (listen_fd < 0) {
		r = make_parent_dirs(d.socket_path, 0755);
		if (r < 0)
			fatalx("cannot create the directory of %s: %s", d.socket_path, strerror(-r));
		if (control_bind(d.socket_path, c->socket_mode, control_gid, have_group, &listen_fd) < 0) {
			config_free(c);
			free(d.socket_path);
			sd_event_unref(d.event);
			return 1;
		}
		d.socket_bound = true;
	} else
		log_info("serving the socket passed by systemd");

	uint64_t first_run_id = 1;
	if (state_dir && d.state_lock < 0)
		log_warnx("state_dir %s cannot be locked: runs are not recorded in %s", state_dir, HISTORY_FILE);
	if (state_dir && d.state_lock >= 0 && history_open(state_dir, &d.history) == 0) {
		first_run_id = d.history->last_run_id + 1;
		if (runids_open(state_dir, first_run_id, &d.runids) < 0)
			d.runids = NULL;
	}
	r = supervisor_new(d.event, c, state_dir, first_run_id, &d.sup);
	if (r < 0)
		return 1;
	d.sup->history = d.history;
	d.sup->runids = d.runids;
	d.sup->host.cgroups = d.cgroups;
	d.sup->watch.cgroups = d.cgroups;
	{
		/* runs' NOTIFY_SOCKETs: in the control socket's directory (SPEC §7) */
		const char *slash = strrchr(d.socket_path, '/');
		_cleanup_free_ char *dir = slash ? xstrndup(d.socket_path, (size_t) (slash - d.socket_path)) : xstrdup(".");
		supervisor_set_runtime_dir(d.sup, dir[0] ? dir : "/");
	}
	if (d.history)
		(void) recovery_run(d.history, state_dir, d.sup);
	if (d.history) {
		history_observer_init(d.history, &d.history_observer);
		supervisor_add_observer(d.sup, &d.history_observer);
	}
	d.sup->on_idle_after_shutdown = on_idle_after_shutdown;
	d.sup->on_stop_step = on_stop_step;
	struct commands_hooks hooks = {
		.reload = do_reload, .shutdown = do_shutdown, .reopen = do_reopen, .userdata = &d,
	};
	r = commands_new(d.event, d.sup, &hooks, &d.cmds);
	if (r >= 0)
		r = control_new(d.event, listen_fd, control_gid, have_group, commands_dispatch, d.cmds, &d.ctl);
	if (r < 0)
		return 1;
	if (sd_event_add_signal(d.event, NULL, SIGTERM, on_term, &d) < 0 ||
	    sd_event_add_signal(d.event, NULL, SIGINT, on_term, &d) < 0 ||
	    sd_event_add_signal(d.event, NULL, SIGHUP, on_hup, &d) < 0 ||
	    sd_event_add_signal(d.event, NULL, SIGUSR1, on_usr1, &d) < 0)
		fatalx("cannot watch signals");
	d.notify = getenv("NOTIFY_SOCKET") != NULL;
	d.status_observer = (struct job_observer) { .changed = on_job_changed_status, .userdata = &d };
	supervisor_add_observer(d.sup, &d.status_observer);

	supervisor_autostart(d.sup);
	sd_glue_watchdog(d.event);
	log_info("supd %s ready: %zu jobs, socket %s", PACKAGE_VERSION, d.sup->n_jobs, d.socket_path);
	{
		_cleanup_free_ char *st = status_line(d.sup);
		sd_glue_ready(st);
	}

	r = sd_event_loop(d.event);
	if (r < 0)
		log_warnx("event loop: %s", strerror(-r));

	if (d.socket_bound && unlink(d.socket_path) < 0)
		log_warn("cannot remove %s", d.socket_path);
	control_free(d.ctl);
	commands_free(d.cmds);
	close(listen_fd);
	supervisor_remove_observer(d.sup, &d.status_observer);
	if (d.history)
		supervisor_remove_observer(d.sup, &d.history_observer);
	sd_event_source_disable_unref(d.status_timer);
	supervisor_free(d.sup);
	cgroups_free(d.cgroups);
	history_close(d.history);
	runids_close(d.runids);
	if (d.state_lock >= 0)
		close(d.state_lock);
	sd_event_unref(d.event);
	free(d.socket_path);
	log_info("stopped");
	return r < 0 ? 1 : 0;
}
