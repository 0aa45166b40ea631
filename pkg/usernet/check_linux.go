package usernet

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Check says what of rootless networking the host allows this user:
// tun is nil when /dev/net/tun can be opened (needed for any bridge
// network), ping is nil when unprivileged ICMP sockets may be made (needed
// for ping from containers). Both errors say how to fix the host.
func Check() (tun, ping error) {
	if fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0); err != nil {
		tun = fmt.Errorf("opening /dev/net/tun: %w (bridge networks need it readable and writable by the user: chmod 0666 /dev/net/tun; --network host and none work without)", err)
	} else {
		unix.Close(fd)
	}
	if fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMP); err != nil {
		// (ping_group_range itself reads as unmapped ids in here.)
		ping = fmt.Errorf("no ICMP sockets for this user (%v): pings from containers go unanswered until the host's net.ipv4.ping_group_range includes the user's group, e.g. sysctl net.ipv4.ping_group_range=\"0 2147483647\"", err)
	} else {
		unix.Close(fd)
	}
	return tun, ping
}
