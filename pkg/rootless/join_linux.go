package rootless

/*
#cgo CFLAGS: -Wall -Werror
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// rrun_join runs before the Go runtime starts any thread: setns(2) into a
// user namespace is only allowed for a single-threaded process, so it cannot
// be done from Go code. When _RRUN_JOIN_PID names the pause process, join its
// user and then its mount namespace; a failure ends the process with
// status 125, the status docker and podman use for their own errors.
__attribute__((constructor)) static void rrun_join(void)
{
	const char *pid = getenv("_RRUN_JOIN_PID");
	if (pid == NULL || *pid == '\0')
		return;

	char path[64];
	snprintf(path, sizeof(path), "/proc/%s/ns/user", pid);
	int userfd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%s/ns/mnt", pid);
	int mntfd = open(path, O_RDONLY | O_CLOEXEC);
	if (userfd < 0 || mntfd < 0) {
		fprintf(stderr, "Error: rootless namespace holder (pid %s) is gone: %s; run the command again\n", pid, strerror(errno));
		exit(125);
	}
	// Joining a mount namespace moves the process to its root: remember
	// the working directory to return to it (relative paths on the
	// command line must keep their meaning).
	char cwd[4096];
	int have_cwd = getcwd(cwd, sizeof(cwd)) != NULL;
	if (setns(userfd, CLONE_NEWUSER) < 0) {
		fprintf(stderr, "Error: cannot join the user namespace of pid %s: %s\n", pid, strerror(errno));
		exit(125);
	}
	if (setns(mntfd, CLONE_NEWNS) < 0) {
		fprintf(stderr, "Error: cannot join the mount namespace of pid %s: %s\n", pid, strerror(errno));
		exit(125);
	}
	close(userfd);
	close(mntfd);
	if (have_cwd && chdir(cwd) < 0)
		(void)chdir("/");
	// Children (layer unpacking, the container init) are already inside.
	unsetenv("_RRUN_JOIN_PID");
}
*/
import "C"
