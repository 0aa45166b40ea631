//go:build linux

package bypass

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Kernel ABI of the seccomp user-notification interface (include/uapi/linux/seccomp.h).
// golang.org/x/sys/unix provides the RECV/SEND ioctl numbers and the flag constants but
// neither the structs nor the ID_VALID/ADDFD ioctl numbers, so they are spelled out here.

// struct seccomp_data
type seccompData struct {
	Nr   int32
	Arch uint32
	IP   uint64
	Args [6]uint64
}

// struct seccomp_notif (sizeof == 80, matches the size encoded in SECCOMP_IOCTL_NOTIF_RECV)
type seccompNotif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Data  seccompData
}

// struct seccomp_notif_resp (sizeof == 24, matches SECCOMP_IOCTL_NOTIF_SEND)
type seccompNotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

// struct seccomp_notif_addfd (sizeof == 24)
type seccompNotifAddfd struct {
	ID         uint64
	Flags      uint32
	Srcfd      uint32
	Newfd      uint32
	NewfdFlags uint32
}

const (
	// #define SECCOMP_IOCTL_NOTIF_ID_VALID SECCOMP_IOW(2, __u64)  == _IOW('!', 2, __u64)
	ioctlNotifIDValid = 0x40082102
	// #define SECCOMP_IOCTL_NOTIF_ADDFD SECCOMP_IOW(3, struct seccomp_notif_addfd)
	ioctlNotifAddfd = 0x40182103

	// PIDFD_THREAD (include/uapi/linux/pidfd.h, Linux >= 6.9) == O_EXCL.
	pidfdThread = unix.O_EXCL
)

// Compile-time checks of the struct sizes against the ioctl encodings.
var (
	_ [80 - unsafe.Sizeof(seccompNotif{})]byte
	_ [unsafe.Sizeof(seccompNotif{}) - 80]byte
	_ [24 - unsafe.Sizeof(seccompNotifResp{})]byte
	_ [unsafe.Sizeof(seccompNotifResp{}) - 24]byte
	_ [24 - unsafe.Sizeof(seccompNotifAddfd{})]byte
	_ [unsafe.Sizeof(seccompNotifAddfd{}) - 24]byte
)

func ioctlPtr(fd int, req uintptr, p unsafe.Pointer) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(p))
	if e != 0 {
		return e
	}
	return nil
}

func notifRecv(fd int, n *seccompNotif) error {
	*n = seccompNotif{} // the kernel rejects a non-zeroed buffer with EINVAL
	return ioctlPtr(fd, unix.SECCOMP_IOCTL_NOTIF_RECV, unsafe.Pointer(n))
}

func notifSend(fd int, r *seccompNotifResp) error {
	return ioctlPtr(fd, unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(r))
}

// notifIDValid reports whether the notification id is still pending (the target
// task is still blocked in the syscall), which also proves that a pid looked up
// after receiving the notification still names the same task.
func notifIDValid(fd int, id uint64) bool {
	return ioctlPtr(fd, ioctlNotifIDValid, unsafe.Pointer(&id)) == nil
}

// notifAddfdSetfd installs srcfd into the target task at exactly newfd
// (SECCOMP_ADDFD_FLAG_SETFD: replaces whatever newfd was, like dup2).
func notifAddfdSetfd(fd int, id uint64, srcfd, newfd int, cloexec bool) error {
	a := seccompNotifAddfd{ID: id, Flags: unix.SECCOMP_ADDFD_FLAG_SETFD, Srcfd: uint32(srcfd), Newfd: uint32(newfd)}
	if cloexec {
		a.NewfdFlags = unix.O_CLOEXEC
	}
	return ioctlPtr(fd, ioctlNotifAddfd, unsafe.Pointer(&a))
}

// nativeAuditArch is the AUDIT_ARCH_* value of seccomp_data.arch for native
// syscalls of this build; compat (32-bit) syscalls use other numbers and are
// continued untouched.
func nativeAuditArch() uint32 {
	switch runtime.GOARCH {
	case "amd64":
		return unix.AUDIT_ARCH_X86_64
	case "arm64":
		return unix.AUDIT_ARCH_AARCH64
	case "riscv64":
		return unix.AUDIT_ARCH_RISCV64
	case "ppc64le":
		return unix.AUDIT_ARCH_PPC64LE
	case "s390x":
		return unix.AUDIT_ARCH_S390X
	case "loong64":
		return unix.AUDIT_ARCH_LOONGARCH64
	}
	return 0 // unknown: nothing matches, everything is continued
}
