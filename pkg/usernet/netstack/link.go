package netstack

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// MACAddress is the MAC address of the stack's end of the TAP. It is fixed (a
// locally administered unicast address) so that a restarted stack is reached
// at once even if the infra netns still has the old neighbour entry cached;
// the infra netns may also pin it with a permanent neighbour entry for
// 10.0.2.2 to skip ARP/NDP.
const MACAddress = "02:72:72:75:6e:02"

// stackMAC is MACAddress in gVisor's representation.
var stackMAC = tcpip.LinkAddress("\x02\x72\x72\x75\x6e\x02")

// virtio-net header (include/uapi/linux/virtio_net.h), used with IFF_VNET_HDR.
const (
	virtioNetHdrLen      = 10 // sizeof(struct virtio_net_hdr)
	virtioNetHdrFNeedsCs = 1  // VIRTIO_NET_HDR_F_NEEDS_CSUM
	virtioNetHdrGSOTCPv4 = 1  // VIRTIO_NET_HDR_GSO_TCPV4
	virtioNetHdrGSOTCPv6 = 4  // VIRTIO_NET_HDR_GSO_TCPV6

	// gsoMaxSize bounds TCP segments the stack hands to the kernel with
	// VnetHdr (the kernel segments them to the container path's MSS).
	gsoMaxSize = 1 << 16

	// rxCopyThreshold: frames up to this size are copied into a right-sized
	// buffer so the 64 KiB receive buffer can be reused; larger ones are
	// handed to gVisor without a copy.
	rxCopyThreshold = 2048

	// rxTailSize is the extra room after the main 64 KiB receive buffer for
	// GSO frames (VnetHdr) that are slightly longer than 64 KiB.
	rxTailSize = 256
)

// tapLink is a stack.LinkEndpoint over a TAP fd: Ethernet frames, one
// read(2)/readv(2) per received frame and one writev(2) per sent frame,
// optionally prefixed by a virtio-net header (IFF_VNET_HDR) for checksum and
// segmentation offload.
type tapLink struct {
	f       *os.File
	rc      syscall.RawConn
	mtu     uint32
	vnetHdr int // virtio-net header size, 0 without IFF_VNET_HDR
	logf    func(string, ...any)

	mu         sync.Mutex
	dispatcher stack.NetworkDispatcher
	wg         sync.WaitGroup
	closeOnce  sync.Once
	closeErr   error
	closing    atomic.Bool

	rxFrames, rxRunt, txFrames, txErrors atomic.Uint64
}

var _ stack.LinkEndpoint = (*tapLink)(nil)
var _ stack.GSOEndpoint = (*tapLink)(nil)

// ifReq is struct ifreq as used by TUNGETIFF.
type ifReq struct {
	Name  [unix.IFNAMSIZ]byte
	Flags uint16
	_     [22]byte
}

func newTapLink(fd int, mtu uint32, vnet bool, logf func(string, ...any)) (*tapLink, error) {
	var req ifReq
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNGETIFF, uintptr(unsafe.Pointer(&req))); errno != 0 {
		return nil, fmt.Errorf("netstack: fd %d is not a TAP device (TUNGETIFF: %w)", fd, errno)
	}
	if req.Flags&unix.IFF_TAP == 0 || req.Flags&unix.IFF_NO_PI == 0 {
		return nil, fmt.Errorf("netstack: fd %d must be a TAP opened with IFF_TAP|IFF_NO_PI (flags %#x)", fd, req.Flags)
	}
	hasVnet := req.Flags&unix.IFF_VNET_HDR != 0
	if hasVnet != vnet {
		return nil, fmt.Errorf("netstack: Config.VnetHdr=%v but the TAP was opened with IFF_VNET_HDR=%v", vnet, hasVnet)
	}
	l := &tapLink{mtu: mtu, logf: logf}
	if vnet {
		sz, err := unix.IoctlGetInt(fd, unix.TUNGETVNETHDRSZ)
		if err != nil {
			return nil, fmt.Errorf("netstack: TUNGETVNETHDRSZ: %w", err)
		}
		if sz < virtioNetHdrLen || sz > 64 {
			return nil, fmt.Errorf("netstack: unsupported virtio-net header size %d", sz)
		}
		l.vnetHdr = sz
		// Let the kernel hand us (and accept from us) frames with partial
		// checksums and TCP super-segments.
		if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, unix.TUN_F_CSUM|unix.TUN_F_TSO4|unix.TUN_F_TSO6); err != nil {
			return nil, fmt.Errorf("netstack: TUNSETOFFLOAD: %w", err)
		}
	}
	// Non-blocking before os.NewFile, so that the fd joins Go's poller and
	// Close can interrupt a pending read.
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, fmt.Errorf("netstack: set non-blocking: %w", err)
	}
	l.f = os.NewFile(uintptr(fd), "rrun-tap")
	rc, err := l.f.SyscallConn()
	if err != nil {
		l.f.Close()
		return nil, fmt.Errorf("netstack: %w", err)
	}
	l.rc = rc
	return l, nil
}

// close stops the read loop and closes the fd.
func (l *tapLink) close() error {
	l.closeOnce.Do(func() {
		l.closing.Store(true)
		l.closeErr = l.f.Close()
		l.wg.Wait()
	})
	return l.closeErr
}

// Attach implements stack.LinkEndpoint.
func (l *tapLink) Attach(d stack.NetworkDispatcher) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d == nil {
		// NIC removal: reading stops when the fd is closed (link.close).
		l.dispatcher = nil
		return
	}
	if l.dispatcher != nil {
		return
	}
	l.dispatcher = d
	l.wg.Add(1)
	go l.readLoop(d)
}

// IsAttached implements stack.LinkEndpoint.
func (l *tapLink) IsAttached() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dispatcher != nil
}

// MTU implements stack.LinkEndpoint.
func (l *tapLink) MTU() uint32 { return l.mtu }

// SetMTU implements stack.LinkEndpoint (the MTU is fixed by the TAP).
func (l *tapLink) SetMTU(uint32) {}

// MaxHeaderLength implements stack.LinkEndpoint.
func (l *tapLink) MaxHeaderLength() uint16 { return header.EthernetMinimumSize }

// LinkAddress implements stack.LinkEndpoint.
func (l *tapLink) LinkAddress() tcpip.LinkAddress { return stackMAC }

// SetLinkAddress implements stack.LinkEndpoint (the address is fixed).
func (l *tapLink) SetLinkAddress(tcpip.LinkAddress) {}

// Capabilities implements stack.LinkEndpoint.
func (l *tapLink) Capabilities() stack.LinkEndpointCapabilities {
	c := stack.CapabilityResolutionRequired
	if l.vnetHdr != 0 {
		// Frames from the kernel may carry partial checksums (the
		// virtio-net header says so); the kernel produced or forwarded
		// them, so there is nothing to verify.
		c |= stack.CapabilityRXChecksumOffload
	}
	return c
}

// GSOMaxSize implements stack.GSOEndpoint.
func (l *tapLink) GSOMaxSize() uint32 {
	if l.vnetHdr != 0 {
		return gsoMaxSize
	}
	return 0
}

// SupportedGSO implements stack.GSOEndpoint.
func (l *tapLink) SupportedGSO() stack.SupportedGSO {
	if l.vnetHdr != 0 {
		return stack.HostGSOSupported
	}
	return stack.GSONotSupported
}

// Wait implements stack.LinkEndpoint.
func (l *tapLink) Wait() { l.wg.Wait() }

// ARPHardwareType implements stack.LinkEndpoint.
func (l *tapLink) ARPHardwareType() header.ARPHardwareType { return header.ARPHardwareEther }

// AddHeader implements stack.LinkEndpoint.
func (l *tapLink) AddHeader(pkt *stack.PacketBuffer) {
	eth := header.Ethernet(pkt.LinkHeader().Push(header.EthernetMinimumSize))
	eth.Encode(&header.EthernetFields{
		SrcAddr: stackMAC,
		DstAddr: pkt.EgressRoute.RemoteLinkAddress,
		Type:    pkt.NetworkProtocolNumber,
	})
}

// ParseHeader implements stack.LinkEndpoint.
func (l *tapLink) ParseHeader(pkt *stack.PacketBuffer) bool {
	hdr, ok := pkt.LinkHeader().Consume(header.EthernetMinimumSize)
	if !ok {
		return false
	}
	pkt.NetworkProtocolNumber = header.Ethernet(hdr).Type()
	return true
}

// Close implements stack.LinkEndpoint (the fd is closed by tapLink.close).
func (l *tapLink) Close() {}

// SetOnCloseAction implements stack.LinkEndpoint.
func (l *tapLink) SetOnCloseAction(func()) {}

// WritePackets implements stack.LinkEndpoint. Frames that cannot be written
// are dropped (TCP retransmits); writes never block.
func (l *tapLink) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	n := 0
	for _, pkt := range pkts.AsSlice() {
		if err := l.writePacket(pkt); err != nil {
			l.txErrors.Add(1)
			if _, closed := err.(*tcpip.ErrClosedForSend); closed {
				return n, err
			}
			continue
		}
		n++
	}
	return n, nil
}

func (l *tapLink) writePacket(pkt *stack.PacketBuffer) tcpip.Error {
	var vh [virtioNetHdrLen]byte
	var iovArr [8][]byte
	iov := iovArr[:0]
	if l.vnetHdr != 0 {
		encodeVirtioNetHdr(vh[:], pkt)
		iov = append(iov, vh[:])
		if l.vnetHdr > virtioNetHdrLen {
			// Larger header variants (num_buffers etc.) are zero on
			// transmit.
			iov = append(iov, make([]byte, l.vnetHdr-virtioNetHdrLen))
		}
	}
	iov = append(iov, pkt.AsSlices()...)
	var werr error
	err := l.rc.Write(func(fd uintptr) bool {
		for {
			_, werr = unix.Writev(int(fd), iov)
			if werr != unix.EINTR {
				return true
			}
		}
	})
	if err != nil {
		return &tcpip.ErrClosedForSend{}
	}
	if werr != nil {
		return tcpip.TranslateErrno(werr.(unix.Errno))
	}
	l.txFrames.Add(1)
	return nil
}

// encodeVirtioNetHdr fills a virtio_net_hdr for pkt from its GSO options.
func encodeVirtioNetHdr(b []byte, pkt *stack.PacketBuffer) {
	gso := pkt.GSOOptions
	if gso.Type == stack.GSONone || gso.Type == stack.GSOGvisor {
		return // all zero: checksums complete, no segmentation
	}
	var flags, gsoType uint8
	var csumStart, csumOffset, gsoSize uint16
	hdrLen := uint16(pkt.HeaderSize())
	if gso.NeedsCsum {
		flags = virtioNetHdrFNeedsCs
		csumStart = header.EthernetMinimumSize + gso.L3HdrLen
		csumOffset = gso.CsumOffset
	}
	if uint16(pkt.Data().Size()) > gso.MSS {
		switch gso.Type {
		case stack.GSOTCPv4:
			gsoType = virtioNetHdrGSOTCPv4
		case stack.GSOTCPv6:
			gsoType = virtioNetHdrGSOTCPv6
		}
		gsoSize = gso.MSS
	}
	b[0] = flags
	b[1] = gsoType
	binary.NativeEndian.PutUint16(b[2:], hdrLen)
	binary.NativeEndian.PutUint16(b[4:], gsoSize)
	binary.NativeEndian.PutUint16(b[6:], csumStart)
	binary.NativeEndian.PutUint16(b[8:], csumOffset)
}

// readLoop reads frames until the fd is closed and hands them to gVisor.
// Nothing a frame contains can stop it: runts are counted and dropped,
// everything else is validated by gVisor. Frames are accepted whatever their
// destination MAC: the TAP has exactly two ends, so whatever the infra netns
// sends on it is for us (e.g. still addressed to a previous stack's MAC).
func (l *tapLink) readLoop(d stack.NetworkDispatcher) {
	defer l.wg.Done()
	var (
		hdr  = make([]byte, max(l.vnetHdr, 1))
		main *buffer.View
		tail *buffer.View
		iov  = make([][]byte, 0, 3)
	)
	defer func() {
		if main != nil {
			main.Release()
		}
		if tail != nil {
			tail.Release()
		}
	}()
	for {
		if main == nil {
			main = buffer.NewViewSize(buffer.MaxChunkSize)
		}
		iov = iov[:0]
		if l.vnetHdr != 0 {
			if tail == nil {
				tail = buffer.NewViewSize(rxTailSize)
			}
			iov = append(iov, hdr[:l.vnetHdr], main.AsSlice(), tail.AsSlice())
		} else {
			iov = append(iov, main.AsSlice())
		}
		var (
			n    int
			rerr error
		)
		err := l.rc.Read(func(fd uintptr) bool {
			for {
				n, rerr = unix.Readv(int(fd), iov)
				if rerr != unix.EINTR {
					return rerr != unix.EAGAIN
				}
			}
		})
		if err != nil {
			if !l.closing.Load() {
				l.logf("netstack: TAP read loop stopped: %v", err)
			}
			return
		}
		if rerr != nil {
			l.logf("netstack: TAP read failed, link is down: %v", rerr)
			return
		}
		if n == 0 {
			l.logf("netstack: TAP read loop stopped: %v", io.EOF)
			return
		}
		l.rxFrames.Add(1)
		n -= l.vnetHdr
		if n < header.EthernetMinimumSize {
			l.rxRunt.Add(1)
			continue
		}

		var payload buffer.Buffer
		switch {
		case n <= rxCopyThreshold:
			payload = buffer.MakeWithData(main.AsSlice()[:n])
		case n <= main.Size():
			main.CapLength(n)
			payload = buffer.MakeWithView(main)
			main = nil
		default: // GSO frame longer than 64 KiB (VnetHdr only)
			tail.CapLength(n - main.Size())
			payload = buffer.MakeWithView(main)
			payload.Append(tail)
			main, tail = nil, nil
		}
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: payload})
		if !l.ParseHeader(pkt) {
			l.rxRunt.Add(1)
			pkt.DecRef()
			continue
		}
		d.DeliverNetworkPacket(pkt.NetworkProtocolNumber, pkt)
		pkt.DecRef()
	}
}
