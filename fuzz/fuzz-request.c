/* SPDX-License-Identifier: ISC */
/* libFuzzer target: the control protocol, end to end in one process.
 *
 * Each input gets a fresh supervisor (small config, see config_a) and
 * control server on a real Unix socket in a private directory. The input is
 * split at blank lines ("\n\n") into segments; each segment is written on
 * a new client connection (the last one takes the rest after MAX_CONNS), so
 * an input can pipeline requests on one connection and also have several
 * clients at once (a subscriber, a waiter, a reloader). A segment that
 * starts with 0x04 (EOT; the byte is not sent) half-closes its connection
 * (shutdown SHUT_WR, as nc -N does) once it is written: supd must still
 * answer every request on it, then close. NUL bytes in a segment are sent
 * as they are (each is an error reply). The event loop runs
 * until it is idle: nothing to dispatch, nothing to read or write and no
 * job process alive. Then the clients hang up, supd's shutdown sequence
 * runs, and everything is freed, so LeakSanitizer sees any leak per input.
 *
 * Jobs either never fork (their environment_file is missing: spawn fails
 * before fork, the job goes fatal) or run /bin/true, /bin/false or a
 * one-line shell, which end at once. After each input no child process may
 * remain and no file descriptor may have leaked; either aborts.
 *
 * reload alternates between config_b (adds, removes, changes jobs),
 * config_bad (errors: nothing changes) and config_a. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>
#include "commands.h"
#include "config.h"
#include "control.h"
#include "log.h"
#include "reload.h"
#include "supervisor.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CONNS 8
#define INPUT_DEADLINE_USEC (5 * USEC_PER_SEC)

static const char config_a[] =
	"[supd]\n"
	"max_parallel = 2\n"
	"[job:true]\n"
	"command = /bin/true\n"
	"autostart = false\n"
	"stdout = log\n"
	"[job:false]\n"
	"command = /bin/false\n"
	"autostart = false\n"
	"[job:sh]\n"
	"command = echo out; echo err >&2; exit 3\n"
	"shell = true\n"
	"autostart = false\n"
	"stdout = log\n"
	"stderr = stdout\n"
	"[job:pipe]\n"
	"command = /bin/echo a b | /bin/cat\n"
	"autostart = false\n"
	"stdout = log\n"
	"[job:nospawn]\n"
	"command = sleep 1000\n"
	"environment_file = /nonexistent/supd-fuzz.env\n"
	"autostart = false\n"
	"[job:tmpl@]\n"
	"command = echo %i\n"
	"environment_file = /nonexistent/%i.env\n"
	"autostart = false\n"
	"[job:pool]\n"
	"command = sleep 1000\n"
	"instances = 3\n"
	"environment_file = /nonexistent/supd-fuzz.env\n"
	"[job:dep]\n"
	"command = /bin/true\n"
	"autostart = false\n"
	"requires = true:exited sh:started\n"
	"[job:dep2@]\n"
	"command = /bin/true\n"
	"autostart = false\n"
	"requires = tmpl@%i pool@1:started\n"
	"[job:top]\n"
	"command = /bin/false\n"
	"autostart = false\n"
	"requires = dep dep2@x:exited\n";

static const char config_b[] =
	"[supd]\n"
	"max_parallel = 1\n"
	"[job:true]\n"
	"command = /bin/true x\n"
	"autostart = false\n"
	"[job:again]\n"
	"command = /bin/false\n"
	"restart = on-failure\n"
	"restart_delay = 0\n"
	"start_limit = 3/1h\n"
	"autostart = false\n"
	"[job:tmpl@]\n"
	"command = echo %i\n"
	"environment_file = /nonexistent/%i.env\n"
	"[job:pool]\n"
	"command = sleep 1000\n"
	"instances = 2\n"
	"environment_file = /nonexistent/supd-fuzz.env\n"
	"[job:dep]\n"
	"command = /bin/true\n"
	"autostart = false\n"
	"requires = again true\n";

static const char config_bad[] =
	"[supd]\n"
	"max_parallel = lots\n"
	"[job:x]\n";

static char *base_dir, *conf_path[3], *sock_path, *state_dir, *log_dir;
static int listen_fd = -1;
static int baseline_fds = -1;
static bool echo_replies;     /* SUPD_FUZZ_ECHO=1: print what supd answers */

struct harness {
	sd_event *event;
	struct supervisor *sup;
	struct commands *cmds;
	struct control *ctl;
	unsigned reloads;
};

static void write_file(const char *path, const char *text) {
	FILE *f = fopen(path, "we");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

/* Forget what the previous input left in the state directory. */
static void reset_state_dir(void) {
	DIR *d = opendir(log_dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				(void) unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	_cleanup_free_ char *h = xasprintf("%s/runs.jsonl", state_dir);
	_cleanup_free_ char *h1 = xasprintf("%s/runs.jsonl.1", state_dir);
	(void) unlink(h);
	(void) unlink(h1);
}

static void remove_tree(void) {
	reset_state_dir();
	(void) rmdir(log_dir);
	(void) rmdir(state_dir);
	for (int i = 0; i < 3; i++)
		(void) unlink(conf_path[i]);
	(void) unlink(sock_path);
	(void) rmdir(base_dir);
}

/* Child processes of ours still around (alive or zombie), but for the
 * sanitizer's llvm-symbolizer. */
static int children_left(void) {
	static unsigned calls;
	pid_t me = getpid();
	DIR *d;
	struct dirent *de;
	int n = 0;

	/* fast path: no child at all (a zombie would be reaped and counted) */
	pid_t r = waitpid(-1, NULL, WNOHANG | __WALL);
	if (r < 0 && errno == ECHILD)
		return 0;
	if (r > 0) {
		fprintf(stderr, "fuzz-request: reaped an unreaped child, pid %d\n", (int) r);
		return 1;
	}
	/* the symbolizer lives on: look closer now and then only */
	if (calls++ % 64 != 0)
		return 0;
	if (!(d = opendir("/proc")))
		abort();
	while ((de = readdir(d))) {
		char path[64], buf[512];
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		size_t k = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[k] = '\0';
		char *rp = strrchr(buf, ')');
		char state;
		int ppid;
		if (!rp || sscanf(rp + 1, " %c %d", &state, &ppid) != 2 || ppid != me)
			continue;
		if (strstr(buf, "(llvm-symbolizer"))
			continue;
		fprintf(stderr, "fuzz-request: child process left after shutdown: %s\n", buf);
		n++;
	}
	closedir(d);
	return n;
}

static int count_fds(void) {
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		abort();
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
	sigset_t mask;

	/* as supd does, before any thread (libFuzzer's rss thread) starts */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		abort();
	(void) signal(SIGPIPE, SIG_IGN);
	echo_replies = getenv("SUPD_FUZZ_ECHO") != NULL;
	log_init("supd-fuzz", LOG_TARGET_STDERR, getenv("SUPD_FUZZ_LOG") ? LOG_DEBUG : LOG_CRIT);

	const char *tmp = getenv("TMPDIR");
	base_dir = xasprintf("%s/supd-fuzz-XXXXXX", tmp && *tmp && strlen(tmp) < 60 ? tmp : "/tmp");
	if (!mkdtemp(base_dir))
		abort();
	conf_path[0] = xasprintf("%s/a.conf", base_dir);
	conf_path[1] = xasprintf("%s/b.conf", base_dir);
	conf_path[2] = xasprintf("%s/bad.conf", base_dir);
	sock_path = xasprintf("%s/supd.sock", base_dir);
	state_dir = xasprintf("%s/state", base_dir);
	log_dir = xasprintf("%s/logs", state_dir);
	if (mkdir(state_dir, 0700) < 0)
		abort();
	write_file(conf_path[0], config_a);
	write_file(conf_path[1], config_b);
	write_file(conf_path[2], config_bad);
	if (control_bind(sock_path, 0600, 0, false, &listen_fd) < 0)
		abort();
	atexit(remove_tree);
	return 0;
}

/* The reopen hook, as supd's main does it (there is no history here). */
static void hook_reopen(void *userdata) {
	struct harness *h = userdata;
	supervisor_reopen_logs(h->sup);
}

/* The reload hook, as supd's main does it. */
static json_t *hook_reload(void *userdata) {
	struct harness *h = userdata;
	struct config_errors errs = { 0 };
	struct supd_config *c = NULL;
	const char *path = conf_path[++h->reloads % 3 == 1 ? 1 : h->reloads % 3 == 2 ? 2 : 0];

	if (config_load(path, &c, &errs) < 0) {
		json_t *list = json_array();
		for (size_t i = 0; i < errs.n; i++)
			json_array_append_new(list, json_string(errs.v[i]));
		config_errors_clear(&errs);
		return json_pack("{s:b, s:s, s:o}", "ok", false, "error", "configuration has errors, nothing changed",
				 "errors", list);
	}
	struct reload_result res;
	supervisor_reload(h->sup, c, &res);
	json_t *reply = json_pack("{s:b, s:I, s:I, s:I}", "ok", true,
				  "added", (json_int_t) strv_length(res.added),
				  "removed", (json_int_t) strv_length(res.removed),
				  "changed", (json_int_t) strv_length(res.changed));
	reload_result_free(&res);
	return reply;
}

static void hook_shutdown(void *userdata) {
	struct harness *h = userdata;
	supervisor_shutdown(h->sup);
}

struct conn {
	int fd;
	const uint8_t *out;
	size_t out_len;
	bool half_close;       /* shutdown(SHUT_WR) once out is all sent */
};

/* One round: push input, drain replies, dispatch what is ready.
 * Returns true if anything happened. */
static bool pump(struct harness *h, struct conn *conns, size_t n) {
	bool progress = false;
	char buf[65536];

	for (size_t i = 0; i < n; i++) {
		struct conn *c = &conns[i];
		if (c->fd < 0)
			continue;
		if (c->out_len > 0) {
			ssize_t k = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (k > 0) {
				c->out += k;
				c->out_len -= (size_t) k;
				progress = true;
			} else if (k < 0 && errno != EAGAIN && errno != EINTR) {
				c->out_len = 0;     /* supd dropped us */
			}
		}
		if (c->out_len == 0 && c->half_close) {
			if (shutdown(c->fd, SHUT_WR) < 0 && errno != ENOTCONN)
				abort();
			c->half_close = false;
			progress = true;
		}
		for (;;) {
			ssize_t k = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (k > 0) {
				if (echo_replies)
					fprintf(stderr, "conn %zu <- %.*s", i, (int) k, buf);
				progress = true;
				continue;
			}
			if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
				close(c->fd);         /* supd closed the connection */
				c->fd = -1;
				progress = true;
			}
			break;
		}
	}
	int r = sd_event_run(h->event, 0);
	if (r < 0)
		abort();
	return progress || r > 0;
}

/* Run until nothing moves and no job process is alive (bounded). */
static void run_until_idle(struct harness *h, struct conn *conns, size_t n, usec_t deadline) {
	while (now_usec(CLOCK_MONOTONIC) < deadline) {
		if (pump(h, conns, n))
			continue;
		if (h->sup->host.n_active == 0)
			return;
		/* a job process is running: wait for its SIGCHLD */
		if (sd_event_run(h->event, 20 * USEC_PER_MSEC) < 0)
			abort();
	}
}

static void close_conns(struct conn *conns, size_t n) {
	for (size_t i = 0; i < n; i++)
		if (conns[i].fd >= 0) {
			close(conns[i].fd);
			conns[i].fd = -1;
		}
}

static int connect_client(void) {
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		abort();
	strncpy(sa.sun_path, sock_path, sizeof(sa.sun_path) - 1);
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
		abort();
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	struct harness h = { 0 };
	struct config_errors errs = { 0 };
	struct supd_config *c = NULL;
	struct conn conns[MAX_CONNS];
	size_t n_conns = 0;
	usec_t deadline = now_usec(CLOCK_MONOTONIC) + INPUT_DEADLINE_USEC;

	reset_state_dir();
	if (sd_event_new(&h.event) < 0)
		abort();
	if (config_load(conf_path[0], &c, &errs) < 0)
		abort();
	if (supervisor_new(h.event, c, state_dir, 1, &h.sup) < 0)
		abort();
	struct commands_hooks hooks = {
		.reload = hook_reload, .shutdown = hook_shutdown, .reopen = hook_reopen, .userdata = &h,
	};
	if (commands_new(h.event, h.sup, &hooks, &h.cmds) < 0 ||
	    control_new(h.event, listen_fd, 0, false, commands_dispatch, h.cmds, &h.ctl) < 0)
		abort();
	supervisor_autostart(h.sup);

	/* segments separated by a blank line, each on its own connection */
	const uint8_t *p = data, *end = data + size;
	while (p < end) {
		const uint8_t *seg_end = end;
		if (n_conns + 1 < MAX_CONNS)
			for (const uint8_t *q = p; q + 1 < end; q++)
				if (q[0] == '\n' && q[1] == '\n') {
					seg_end = q + 1;
					break;
				}
		bool half = *p == 0x04;
		if (half)
			p++;
		conns[n_conns] = (struct conn) {
			.fd = connect_client(), .out = p, .out_len = (size_t) (seg_end - p), .half_close = half,
		};
		n_conns++;
		run_until_idle(&h, conns, n_conns, deadline);
		p = seg_end;
		while (p < end && *p == '\n')
			p++;
	}

	/* the clients leave; then supd shuts down as on SIGTERM */
	close_conns(conns, n_conns);
	run_until_idle(&h, conns, n_conns, deadline);
	supervisor_shutdown(h.sup);
	run_until_idle(&h, conns, n_conns, deadline + INPUT_DEADLINE_USEC);
	if (h.sup->host.n_active != 0) {
		fprintf(stderr, "fuzz-request: %zu jobs still have processes after shutdown\n", h.sup->host.n_active);
		abort();
	}
	control_free(h.ctl);
	commands_free(h.cmds);
	supervisor_free(h.sup);
	sd_event_unref(h.event);

	/* no child may outlive its job, and none may be left unreaped */
	if (children_left() > 0)
		abort();
	int fds = count_fds();
	if (baseline_fds < 0)
		baseline_fds = fds;
	else if (fds > baseline_fds + 16) {
		fprintf(stderr, "fuzz-request: file descriptors leak: %d open, %d after the first input\n", fds,
			baseline_fds);
		abort();
	}
	return 0;
}
