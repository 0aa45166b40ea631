package rootless

/*
#cgo CFLAGS: -Wall -Werror
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// join enters the user and then the mount namespace of process pid.
// With must set, a failure ends the process with status 125 (the status
// docker and podman use for their own errors); without it, join returns
// -1 and leaves the process as it was, for the Go code to take over.
static int join(const char *pid, int must)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%s/ns/user", pid);
	int userfd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%s/ns/mnt", pid);
	int mntfd = open(path, O_RDONLY | O_CLOEXEC);
	if (userfd < 0 || mntfd < 0) {
		if (!must)
			goto fail;
		fprintf(stderr, "Error: rootless namespace holder (pid %s) is gone: %s; run the command again\n", pid, strerror(errno));
		exit(125);
	}
	// Joining a mount namespace moves the process to its root: remember
	// the working directory to return to it (relative paths on the
	// command line must keep their meaning).
	char cwd[4096];
	int have_cwd = getcwd(cwd, sizeof(cwd)) != NULL;
	if (setns(userfd, CLONE_NEWUSER) < 0) {
		if (!must)
			goto fail;
		fprintf(stderr, "Error: cannot join the user namespace of pid %s: %s\n", pid, strerror(errno));
		exit(125);
	}
	if (setns(mntfd, CLONE_NEWNS) < 0) {
		// Half inside is no state to go on from.
		fprintf(stderr, "Error: cannot join the mount namespace of pid %s: %s\n", pid, strerror(errno));
		exit(125);
	}
	close(userfd);
	close(mntfd);
	if (have_cwd && chdir(cwd) < 0)
		(void)chdir("/");
	return 0;
fail:
	if (userfd >= 0)
		close(userfd);
	if (mntfd >= 0)
		close(mntfd);
	return -1;
}

// Global flags that take a value, so that their value is not taken for
// the command (kept in step with cmd/app.go).
static const char *value_flags[] = {"log-level", "root", "runroot", "storage-driver", "storage-opt", NULL};

// run_root finds the run root as rrun's Go code does: --runroot, else
// $RRUN_RUNROOT, else $XDG_RUNTIME_DIR/rrun, else /tmp/rrun-UID. It also
// says whether a command follows the global flags (none: --help and the
// like, which need no namespace).
static int run_root(char *out, size_t n, int *has_command)
{
	static char buf[65536];
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -1;
	buf[len] = '\0';
	const char *flag_value = NULL;
	*has_command = 0;
	// Skip argv[0], then walk the global flags up to the command.
	for (char *arg = buf + strlen(buf) + 1; arg < buf + len; arg += strlen(arg) + 1) {
		if (arg[0] != '-') {
			*has_command = strcmp(arg, "version") != 0 && strcmp(arg, "help") != 0 &&
				       strcmp(arg, "login") != 0 && strcmp(arg, "logout") != 0;
			break;
		}
		const char *name = arg + (arg[1] == '-' ? 2 : 1);
		const char *eq = strchr(name, '=');
		size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
		int takes_value = 0;
		for (const char **f = value_flags; *f; f++)
			if (strlen(*f) == name_len && strncmp(*f, name, name_len) == 0)
				takes_value = 1;
		if (!takes_value)
			continue;
		const char *value = eq ? eq + 1 : NULL;
		if (!eq) {
			arg += strlen(arg) + 1;
			if (arg >= buf + len)
				return -1;
			value = arg;
		}
		if (name_len == 7 && strncmp(name, "runroot", 7) == 0)
			flag_value = value;
	}
	const char *env;
	if (flag_value && *flag_value)
		snprintf(out, n, "%s", flag_value);
	else if ((env = getenv("RRUN_RUNROOT")) && *env)
		snprintf(out, n, "%s", env);
	else if ((env = getenv("XDG_RUNTIME_DIR")) && *env)
		snprintf(out, n, "%s/rrun", env);
	else
		snprintf(out, n, "/tmp/rrun-%u", (unsigned)getuid());
	return 0;
}

// holder reads the namespace holder's pid from RUNROOT/pause.pid and
// checks, as the Go code does, that it is the same process (start time)
// and alive (not a zombie).
static int holder(const char *runroot, char *pid, size_t n)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/pause.pid", runroot);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	unsigned long long start = 0, now = 0;
	int p = 0;
	int ok = fscanf(f, "%d %llu", &p, &start) == 2 && p > 0;
	fclose(f);
	if (!ok)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", p);
	f = fopen(path, "re");
	if (!f)
		return -1;
	static char stat[4096];
	size_t got = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[got] = '\0';
	char *rest = strrchr(stat, ')');
	if (!rest)
		return -1;
	char state = 0;
	// After ")": state, then fields 4..21, then starttime (field 22).
	if (sscanf(rest + 1, " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu", &state, &now) != 2)
		return -1;
	if (now != start || state == 'Z' || state == 'X')
		return -1;
	snprintf(pid, n, "%d", p);
	return 0;
}

// hold_namespaces is the namespace holder's second stage (pause_linux.go
// has the first): it runs here, before the Go runtime starts, so that the
// process that keeps the user's namespaces alive costs a few hundred
// kilobytes rather than a Go runtime's megabytes. It reports "ok" on fd 4
// and sleeps until a signal ends it.
static void hold_namespaces(void)
{
	char msg[128];
	if (getuid() != 0) {
		int n = snprintf(msg, sizeof(msg), "uid %u in the new namespace, want 0: the id maps were not applied", (unsigned)getuid());
		if (write(4, msg, n) < 0)
			_exit(1);
		_exit(1);
	}
	if (write(4, "ok", 2) != 2)
		_exit(1);
	close(4);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	for (;;)
		pause(); // SIGTERM or SIGINT end it, by their default action
}

// rrun_join runs before the Go runtime starts any thread: setns(2) into a
// user namespace is only allowed for a single-threaded process, so it
// cannot be done from Go code.
//
// When _RRUN_JOIN_PID names the holder (the Go code re-executed rrun
// after starting or finding it), join it. Otherwise, for an ordinary
// command whose holder already runs, join it right here and save the
// re-execution: a few milliseconds on every command. Anything unusual
// (no holder yet, root, a helper process) is left to the Go code.
__attribute__((constructor)) static void rrun_join(void)
{
	const char *stage = getenv("_RRUN_PAUSE_STAGE");
	if (stage != NULL && strcmp(stage, "2") == 0)
		hold_namespaces(); // does not return
	const char *pid = getenv("_RRUN_JOIN_PID");
	if (pid != NULL && *pid != '\0') {
		join(pid, 1);
		// Children (layer unpacking, the container init) are already inside.
		unsetenv("_RRUN_JOIN_PID");
		return;
	}
	if (getuid() == 0 || getenv("_RRUN_USERNS_PID") || getenv("_LIBCONTAINER_INITPIPE") ||
	    getenv("_RRUN_PAUSE_STAGE") || getenv("_RRUN_SUPERVISOR"))
		return;
	char runroot[4096], holder_pid[32];
	int has_command;
	if (run_root(runroot, sizeof(runroot), &has_command) < 0 || !has_command)
		return;
	if (holder(runroot, holder_pid, sizeof(holder_pid)) < 0)
		return;
	// The Go code recognises the joined namespace (Enter): environment
	// set here would not reach it, as Go reads the process's original one.
	join(holder_pid, 0);
}
*/
import "C"
