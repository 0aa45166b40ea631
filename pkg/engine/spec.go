package engine

import (
	"bufio"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rrun/rrun/pkg/rootless"
	"github.com/rrun/rrun/pkg/usernet"

	"github.com/rrun/rrun/pkg/oci"
)

// containerSpec builds the container's OCI spec, writing the files docker
// generates for it (hosts, hostname, resolv.conf) into its directory.
func (e *Engine) containerSpec(c *Container, rootfs string, att *attachment) (*specs.Spec, error) {
	dir, err := e.containerDir(c.ID)
	if err != nil {
		return nil, err
	}
	files, err := writeNetworkFiles(dir, c, att)
	if err != nil {
		return nil, err
	}
	cfg, hc, err := e.prepareVolumes(c, rootfs)
	if err != nil {
		return nil, err
	}
	in := oci.SpecInput{
		ID:             c.ID,
		Rootfs:         rootfs,
		Config:         cfg,
		HostConfig:     hc,
		HostsPath:      files.hosts,
		HostnamePath:   files.hostname,
		ResolvConfPath: files.resolvConf,
		Volumes:        e.volumePath,
		CgroupsPath:    containerCgroup(DetectCgroups(rootless.HostUID()), rootless.HostUID(), c.ID),
		NetNSPath:      att.nsPath,
	}
	if c.HostConfig.Init != nil && *c.HostConfig.Init {
		self, err := staticSelf()
		if err != nil {
			return nil, err
		}
		in.InitPath = self
	}
	return oci.BuildSpec(in)
}

// staticSelf is rrun's own binary, to be mounted as the container's init;
// it must need no dynamic loader, as images may have none.
func staticSelf() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding rrun's binary for --init: %w", err)
	}
	f, err := elf.Open(self)
	if err != nil {
		return "", fmt.Errorf("reading rrun's binary for --init: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", errdefs.ErrNotImplemented.WithMessage("--init needs rrun built as a static binary (make build), so that it runs inside any image; this one is dynamically linked")
		}
	}
	return self, nil
}

// containerCgroup is where a container's cgroup goes on a cgroup v2 host
// with controllers delegated to the user's systemd service, as rootless
// podman places them; "" where limits are impossible (this host: hybrid),
// and the container then runs in rrun's own cgroup.
func containerCgroup(cg CgroupSet, uid int, id string) string {
	if !cg.Limits {
		return ""
	}
	u := strconv.Itoa(uid)
	return "/user.slice/user-" + u + ".slice/user@" + u + ".service/rrun.slice/rrun-" + id + ".scope"
}

type networkFiles struct{ hosts, hostname, resolvConf string }

// hostname is the container's host name: docker's default is the short id.
func hostname(c *Container) string {
	if c.Config.Hostname != "" {
		return c.Config.Hostname
	}
	return c.ID[:12]
}

// writeNetworkFiles writes /etc/hosts, /etc/hostname and /etc/resolv.conf
// as docker does: localhost, the --add-host entries, the container's own
// name (on its address when it has one); and the resolvers it can reach:
// its network's DNS server on a bridge network, the host's on the host's.
// Rootless podman's host.containers.internal and docker desktop's
// host.docker.internal lead to the host from a bridge network.
func writeNetworkFiles(dir string, c *Container, att *attachment) (networkFiles, error) {
	f := networkFiles{
		hosts:      filepath.Join(dir, "hosts"),
		hostname:   filepath.Join(dir, "hostname"),
		resolvConf: filepath.Join(dir, "resolv.conf"),
	}
	name := hostname(c)
	hostGateway := "127.0.0.1" // the host's network is the container's
	if att.primary != nil {
		hostGateway = usernet.HostGateway().String()
	}
	var hosts strings.Builder
	hosts.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	hosts.WriteString("fe00::\tip6-localnet\nff00::\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n")
	for _, h := range c.HostConfig.ExtraHosts {
		host, ip, ok := strings.Cut(h, ":")
		if !ok {
			host, ip, _ = strings.Cut(h, "=")
		}
		if ip == "host-gateway" {
			ip = hostGateway
		}
		fmt.Fprintf(&hosts, "%s\t%s\n", ip, host)
	}
	if ep := att.primary; ep != nil {
		fmt.Fprintf(&hosts, "%s\thost.docker.internal host.containers.internal\n", hostGateway)
		fmt.Fprintf(&hosts, "%s\t%s\n", ep.IPAddress, name)
		if ep.GlobalIPv6Address.IsValid() {
			fmt.Fprintf(&hosts, "%s\t%s\n", ep.GlobalIPv6Address, name)
		}
	} else {
		fmt.Fprintf(&hosts, "127.0.1.1\t%s\n", name)
	}
	if err := os.WriteFile(f.hosts, []byte(hosts.String()), 0o644); err != nil {
		return f, err
	}
	if err := os.WriteFile(f.hostname, []byte(name+"\n"), 0o644); err != nil {
		return f, err
	}
	var nameservers []string
	if att.primary != nil {
		nameservers = []string{att.primary.Gateway.String()}
	}
	return f, os.WriteFile(f.resolvConf, []byte(resolvConf(c, nameservers)), 0o644)
}

// resolvConf is the host's resolv.conf with the container's --dns,
// --dns-search and --dns-option in place of the host's where given, and
// the given nameservers (the network's) in place of the host's.
func resolvConf(c *Container, nameservers []string) string {
	var servers, search, options []string
	if data, err := os.Open("/etc/resolv.conf"); err == nil {
		sc := bufio.NewScanner(data)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 2 {
				continue
			}
			switch fields[0] {
			case "nameserver":
				servers = append(servers, fields[1])
			case "search", "domain":
				search = append(search, fields[1:]...)
			case "options":
				options = append(options, fields[1:]...)
			}
		}
		data.Close()
	}
	if len(nameservers) > 0 {
		servers = nameservers
	}
	hc := c.HostConfig
	if len(hc.DNS) > 0 {
		servers = servers[:0]
		for _, s := range hc.DNS {
			servers = append(servers, s.String())
		}
	}
	if len(hc.DNSSearch) > 0 {
		search = hc.DNSSearch
	}
	if len(hc.DNSOptions) > 0 {
		options = hc.DNSOptions
	}
	var b strings.Builder
	for _, s := range servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(search, " "))
	}
	if len(options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(options, " "))
	}
	return b.String()
}
