// Package bypass accelerates a container's outgoing TCP connections by handing the
// container a socket created in the host's network namespace, so that the flow
// runs at host-loopback speed instead of through rrun's user-mode TCP/IP stack
// (the netstack in the supervisor). The idea is the one of nerdctl's
// bypass4netns; the implementation is rrun's own.
//
// # How
//
// The container's OCI seccomp profile gets a rule connect -> SCMP_ACT_NOTIFY
// (ProfileRule, AddToProfile) and Linux.Seccomp.ListenerPath, a unix socket on
// which the runtime (runc's libcontainer) sends the filter's listener fd together
// with the container process state JSON (ReceiveListener, ReceiveProcessState).
// Serve then answers every notification:
//
//   - it reads the sockaddr from /proc/PID/mem (length bounded by
//     sizeof(sockaddr_storage)); anything but AF_INET/AF_INET6 is continued;
//   - it asks the Policy; a refusal is continued (the connect runs in the
//     container's netns, i.e. through the netstack);
//   - it fetches the container's socket (pidfd_open + pidfd_getfd) and requires an
//     unbound, unconnected SOCK_STREAM/IPPROTO_TCP socket of the sockaddr's family;
//   - it creates a host socket of the same family, copies O_NONBLOCK, FD_CLOEXEC and
//     common options (SO_REUSEADDR, SO_KEEPALIVE, TCP_NODELAY, TCP_KEEP*, SO_LINGER,
//     SO_SNDTIMEO/SO_RCVTIMEO, and SO_SNDBUF/SO_RCVBUF when they differ from the
//     kernel defaults), connects it to the Policy's host address, installs it over
//     the container's fd (SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SETFD) and
//     answers with the connect's result (0, -EINPROGRESS, -ECONNREFUSED, ...).
//
// Every notification is handled in its own goroutine (bounded; beyond the bound
// the connect is continued), so the receive loop never waits for a connect. A
// blocking connect is waited for in that goroutine: the container thread waits
// for our answer anyway, and the wait is abandoned as soon as the notification is
// no longer valid (signal, death) or the container socket's SO_SNDTIMEO expires
// (then -EINPROGRESS is answered, like the kernel does). A failed blocking connect
// leaves the container's socket untouched and answers the error.
//
// Anything unexpected (unreadable memory, a dead or recycled pid, a non-socket fd,
// an already bound socket, errors) is answered with
// SECCOMP_USER_NOTIF_FLAG_CONTINUE, so the kernel carries out the syscall as if
// Serve did not exist and returns its usual error.
//
// # Limits
//
//   - Only connect(2) of TCP sockets is bypassed. UDP, listening sockets (the
//     container's published ports), sendto/sendmsg with an address and
//     TCP Fast Open (sendto with MSG_FASTOPEN) stay on the netstack.
//   - A bypassed socket lives in the host netns: getsockname/getpeername in the
//     container show host addresses (e.g. 127.0.0.1 and a host ephemeral port),
//     not the container's. Socket options set after connect apply to the host socket.
//   - A socket bound before connect (to an address or a port) is not bypassed.
//   - The fd number is replaced (dup2-like). An application that registered the
//     socket in epoll before calling connect (nginx does so for upstreams) keeps a
//     registration of the old, now closed, file and never sees the connection
//     complete (nginx's upstream code registers first, as far as we know). Go's
//     net package registers after connect and is fine (tested). bypass4netns has
//     the same limitation.
//   - The notification carries a thread id; on kernels < 6.9 (no PIDFD_THREAD) the
//     thread group leader's fd table is used, which is the thread's own except for
//     the exotic CLONE_THREAD-without-CLONE_FILES.
//   - Needs Linux >= 5.9 (SECCOMP_ADDFD_FLAG_SETFD; USER_NOTIF_FLAG_CONTINUE is 5.5,
//     pidfd_getfd 5.6) and ptrace-mode access to the container processes
//     (/proc/PID/mem, pidfd_getfd): the same uid, or CAP_SYS_PTRACE in their user
//     namespace (a supervisor that is uid 0 in the owning user namespace has it).
//   - The kernel fails every notified syscall with ENOSYS once the listener fd is
//     closed: Serve must run for the container's whole lifetime.
//   - Only native-ABI syscalls are handled; compat (32-bit) connects are continued.
package bypass
