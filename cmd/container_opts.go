package cmd

import (
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/urfave/cli/v2"
)

// createOptions is what the flags of `rrun create` and `rrun run` say,
// typed: docker's Engine API configuration, built as docker's CLI builds it,
// and the options the command itself acts on.
type createOptions struct {
	Name       string
	Config     *container.Config
	HostConfig *container.HostConfig
	Network    *network.NetworkingConfig
	Platform   string   // --platform (default $DOCKER_DEFAULT_PLATFORM)
	Pull       string   // --pull: missing (default), always or never
	CIDFile    string   // --cidfile, also HostConfig.ContainerIDFile
	Quiet      bool     // -q: no pull progress (create and run, as in docker)
	Attach     []string // -a: stdin, stdout, stderr (lower case)

	// run only (zero for create):
	Detach     bool
	SigProxy   bool   // default true
	DetachKeys string // "" = the default, ctrl-p,ctrl-q
}

// Pull policies, docker's.
const (
	pullMissing = "missing"
	pullAlways  = "always"
	pullNever   = "never"
)

// containerFlags are the flags of `rrun create`, or forRun of `rrun run`
// (which adds -d, --sig-proxy and --detach-keys): docker's names, short
// forms and defaults.
//
// A command with these flags must set HideHelp: -h is --hostname here, as
// in docker, and the flags carry their own --help.
func containerFlags(forRun bool) []cli.Flag {
	flags := []cli.Flag{
		// The command's own.
		stringOpt("name", "", "assign a `NAME` to the container"),
		stringOpt("platform", "", "set `OS/ARCH[/VARIANT]` if the image is multi-platform").withDefault(os.Getenv("DOCKER_DEFAULT_PLATFORM")),
		stringOpt("pull", "", "`POLICY` for pulling the image first: always, missing or never").withDefault(pullMissing),
		boolOpt("quiet", "q", "suppress the pull output"),
		stringOpt("cidfile", "", "write the container ID to `FILE`"),
		boolOpt("help", "", "print usage"),

		// General.
		listOpt("attach", "a", "attach to `STREAM`: stdin, stdout or stderr (repeatable)"),
		listOpt("device", "", "add a host `DEVICE` to the container: HOST[:CONTAINER][:rwm]"),
		listOpt("env", "e", "set environment variables: `KEY=VALUE`, or KEY to pass rrun's own value"),
		listOpt("env-file", "", "read environment variables from `FILE`"),
		stringOpt("entrypoint", "", "overwrite the default ENTRYPOINT of the image with `COMMAND` (\"\" clears it)"),
		listOpt("group-add", "", "add additional `GROUP`s to join"),
		stringOpt("hostname", "h", "container host `NAME`"),
		stringOpt("domainname", "", "container NIS domain `NAME`"),
		boolOpt("interactive", "i", "keep STDIN open even if not attached"),
		listOpt("label", "l", "set a `LABEL` on the container: KEY[=VALUE]"),
		listOpt("label-file", "", "read labels from a line-delimited `FILE`"),
		boolOpt("read-only", "", "mount the container's root filesystem as read only"),
		stringOpt("restart", "", "restart `POLICY` when the container exits: no, always, unless-stopped, on-failure[:MAX]").withDefault(string(container.RestartPolicyDisabled)),
		boolOpt("rm", "", "automatically remove the container and its anonymous volumes when it exits"),
		stringOpt("stop-signal", "", "`SIGNAL` to stop the container"),
		stringOpt("stop-timeout", "", "timeout (in `SECONDS`) to stop a container"),
		listOpt("sysctl", "", "set a namespaced kernel parameter: `KEY=VALUE`"),
		boolOpt("tty", "t", "allocate a pseudo-TTY"),
		listOpt("ulimit", "", "set a ulimit: `NAME=SOFT[:HARD]`"),
		stringOpt("user", "u", "run as `USER`: <name|uid>[:<group|gid>]"),
		stringOpt("workdir", "w", "working `DIR` inside the container"),

		// Security.
		listOpt("cap-add", "", "add Linux `CAPABILITIES`"),
		listOpt("cap-drop", "", "drop Linux `CAPABILITIES`"),
		boolOpt("privileged", "", "give extended privileges to this container"),
		listOpt("security-opt", "", "security `OPTION`s"),
		stringOpt("userns", "", "user namespace `MODE`: only \"host\", rrun's own"),

		// Network and ports.
		listOpt("add-host", "", "add a custom host-to-IP mapping: `HOST:IP` (IP may be host-gateway)"),
		listOpt("dns", "", "set custom DNS `SERVER`s"),
		listOpt("dns-option", "", "set DNS `OPTION`s").withAlias("dns-opt"),
		listOpt("dns-search", "", "set custom DNS search `DOMAIN`s"),
		listOpt("expose", "", "expose a `PORT` or a range of ports"),
		stringOpt("ip", "", "IPv4 `ADDRESS` (e.g., 172.30.100.104)"),
		stringOpt("ip6", "", "IPv6 `ADDRESS` (e.g., 2001:db8::33)"),
		stringOpt("mac-address", "", "container MAC `ADDRESS` (e.g., 92:d0:c6:0a:29:33)"),
		listOpt("network", "", "connect the container to a `NETWORK`: none, host, bridge, container:NAME or a network's name").withAlias("net"),
		listOpt("network-alias", "", "add a network-scoped `ALIAS` for the container").withAlias("net-alias"),
		listOpt("publish", "p", "publish a container's `PORT`(s) to the host: [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]"),
		boolOpt("publish-all", "P", "publish all exposed ports to random ports"),

		// Logging and storage.
		stringOpt("log-driver", "", "logging `DRIVER` for the container: json-file or none"),
		listOpt("log-opt", "", "log driver `OPTION`s: max-size, max-file"),
		listOpt("mount", "", "attach a filesystem `MOUNT` to the container: type=bind|volume|tmpfs,src=…,dst=…[,OPTION…]"),
		listOpt("tmpfs", "", "mount a tmpfs at `PATH`: PATH[:OPTIONS]"),
		listOpt("volume", "v", "bind mount a `VOLUME`: [SOURCE:]TARGET[:OPTIONS]"),

		// Health-checking.
		stringOpt("health-cmd", "", "`COMMAND` to run to check health"),
		stringOpt("health-interval", "", "`TIME` between running the check (ms|s|m|h) (default 0s)"),
		stringOpt("health-retries", "", "consecutive failures (`N`) needed to report unhealthy"),
		stringOpt("health-timeout", "", "maximum `TIME` to allow one check to run (ms|s|m|h) (default 0s)"),
		stringOpt("health-start-period", "", "start period (`TIME`) for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)"),
		stringOpt("health-start-interval", "", "`TIME` between running the check during the start period (ms|s|m|h) (default 0s)"),
		boolOpt("no-healthcheck", "", "disable any container-specified HEALTHCHECK"),

		// Resources.
		stringOpt("cpus", "", "number of `CPUS` (decimal)"),
		stringOpt("cpu-shares", "c", "CPU `SHARES` (relative weight)"),
		stringOpt("cpuset-cpus", "", "`CPUS` in which to allow execution (0-3, 0,1)"),
		stringOpt("memory", "m", "memory `LIMIT` (e.g. 512m)"),
		stringOpt("memory-swap", "", "swap `LIMIT` equal to memory plus swap: -1 to enable unlimited swap"),
		stringOpt("oom-score-adj", "", "tune host's OOM preferences: `SCORE` from -1000 to 1000"),
		stringOpt("pids-limit", "", "tune container pids `LIMIT` (set -1 for unlimited)"),
		stringOpt("shm-size", "", "`SIZE` of /dev/shm"),

		// Namespaces and process.
		boolOpt("init", "", "run an init inside the container that forwards signals and reaps processes"),
		stringOpt("ipc", "", "IPC `MODE`: private, shareable, none, host or container:NAME"),
		stringOpt("isolation", "", "container isolation `TECHNOLOGY`: only \"default\""),
		stringOpt("pid", "", "PID namespace `MODE`: host or container:NAME"),
		stringOpt("uts", "", "UTS namespace `MODE`: host"),
	}
	if forRun {
		flags = append(flags,
			boolOpt("detach", "d", "run container in background and print container ID"),
			boolOpt("sig-proxy", "", "proxy received signals to the process").withDefault("true"),
			stringOpt("detach-keys", "", "override the key `SEQUENCE` for detaching a container"),
		)
	}
	return flags
}

func stringOpt(name, short, usage string) *containerFlag {
	return &containerFlag{name: name, short: short, kind: optString, usage: usage}
}

func boolOpt(name, short, usage string) *containerFlag {
	return &containerFlag{name: name, short: short, kind: optBool, usage: usage}
}

func listOpt(name, short, usage string) *containerFlag {
	return &containerFlag{name: name, short: short, kind: optList, usage: usage}
}

func (f *containerFlag) withDefault(v string) *containerFlag  { f.def = v; return f }
func (f *containerFlag) withAlias(name string) *containerFlag { f.alias = name; return f }

// parseCreateOptions reads the flags and arguments of `rrun create` (or,
// forRun, `rrun run`): the image is the first argument, the command the
// rest. Flag parsing stops at the image, so the command's own flags
// (`rrun run alpine ls -l`) are arguments. Errors are usage errors.
func parseCreateOptions(c *cli.Context, forRun bool) (*createOptions, error) {
	if c.NArg() < 1 {
		name := "create"
		if forRun {
			name = "run"
		}
		return nil, usageError("%q requires at least 1 argument\nUsage: rrun %s [OPTIONS] IMAGE [COMMAND] [ARG...]", name, name)
	}
	opts, err := flagReader{c}.createOptions(c.Args().Slice(), forRun)
	if err != nil {
		return nil, usageError("%w", err)
	}
	return opts, nil
}

// flagReader reads the containerFlags of one parse.
type flagReader struct{ c *cli.Context }

// value is the named flag's value; a flag the command lacks reads as unset.
func (r flagReader) value(name string) *flagValue {
	if v, ok := r.c.Generic(name).(*flagValue); ok {
		return v
	}
	return &flagValue{flag: &containerFlag{name: name}}
}

func (r flagReader) str(name string) string    { return r.value(name).get() }
func (r flagReader) on(name string) bool       { return r.value(name).on() }
func (r flagReader) list(name string) []string { return r.value(name).values }
func (r flagReader) changed(name string) bool  { return r.value(name).set }

// int is an integer flag, read as pflag reads one.
func (r flagReader) int(name string) (int64, error) {
	v := r.value(name)
	s := v.get()
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		return 0, v.invalid(s, err)
	}
	return n, nil
}

// bytes is a size flag (512m, 1g): docker's RAMInBytes, binary units.
func (r flagReader) bytes(name string) (int64, error) {
	v := r.value(name)
	s := v.get()
	if s == "" {
		return 0, nil
	}
	n, err := units.RAMInBytes(s)
	if err != nil {
		return 0, v.invalid(s, err)
	}
	return n, nil
}

func (r flagReader) duration(name string) (time.Duration, error) {
	v := r.value(name)
	s := v.get()
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, v.invalid(s, err)
	}
	return d, nil
}

// each applies check to every value of a list flag; a failure is reported
// as pflag reports a value its flag refused.
func (r flagReader) each(name string, check func(string) (string, error)) ([]string, error) {
	v := r.value(name)
	var out []string
	for _, s := range v.values {
		checked, err := check(s)
		if err != nil {
			return nil, v.invalid(s, err)
		}
		out = append(out, checked)
	}
	return out, nil
}

func (r flagReader) createOptions(args []string, forRun bool) (*createOptions, error) {
	o := &createOptions{
		Name:     r.str("name"),
		Platform: r.str("platform"),
		Pull:     r.str("pull"),
		CIDFile:  r.str("cidfile"),
		Quiet:    r.on("quiet"),
		Config: &container.Config{
			Image:      args[0],
			Hostname:   r.str("hostname"),
			Domainname: r.str("domainname"),
			User:       r.str("user"),
			WorkingDir: r.str("workdir"),
			StopSignal: r.str("stop-signal"),
		},
		HostConfig: &container.HostConfig{
			ContainerIDFile: r.str("cidfile"),
			AutoRemove:      r.on("rm"),
			Privileged:      r.on("privileged"),
			PublishAllPorts: r.on("publish-all"),
			ReadonlyRootfs:  r.on("read-only"),
			CapAdd:          r.list("cap-add"),
			CapDrop:         r.list("cap-drop"),
			GroupAdd:        r.list("group-add"),
		},
	}
	if len(args) > 1 {
		o.Config.Cmd = args[1:]
	}
	switch o.Pull {
	case "":
		o.Pull = pullMissing
	case pullMissing, pullAlways, pullNever:
	default:
		return nil, fmt.Errorf("invalid pull option: '%s': must be one of %q, %q or %q", o.Pull, pullAlways, pullMissing, pullNever)
	}
	if r.changed("entrypoint") {
		// --entrypoint "" clears the image's entrypoint: docker sends [""].
		o.Config.Entrypoint = []string{r.str("entrypoint")}
	}
	if r.changed("stop-timeout") {
		n, err := r.int("stop-timeout")
		if err != nil {
			return nil, err
		}
		t := int(n)
		o.Config.StopTimeout = &t
	}
	if r.changed("init") {
		init := r.on("init")
		o.HostConfig.Init = &init
	}
	for _, step := range []func(*createOptions, bool) error{
		r.streams, r.envAndLabels, r.storage, r.ports, r.network,
		r.resources, r.healthcheck, r.namespaces, r.restart, r.logging, r.security,
	} {
		if err := step(o, forRun); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// streams sets the attach and terminal fields as docker's CLI does: -i
// opens and attaches stdin (closed when the client detaches); without -a,
// stdout and stderr are attached; `run -d` attaches nothing.
func (r flagReader) streams(o *createOptions, forRun bool) error {
	attach, err := r.each("attach", func(s string) (string, error) {
		s = strings.ToLower(s)
		if s != "stdin" && s != "stdout" && s != "stderr" {
			return "", errors.New("valid streams are STDIN, STDOUT and STDERR")
		}
		return s, nil
	})
	if err != nil {
		return err
	}
	cfg := o.Config
	o.Attach = attach
	cfg.Tty = r.on("tty")
	cfg.OpenStdin = r.on("interactive")
	cfg.AttachStdin = cfg.OpenStdin || slices.Contains(attach, "stdin")
	cfg.AttachStdout = len(attach) == 0 || slices.Contains(attach, "stdout")
	cfg.AttachStderr = len(attach) == 0 || slices.Contains(attach, "stderr")
	cfg.StdinOnce = cfg.OpenStdin && cfg.AttachStdin
	if !forRun {
		return nil
	}
	o.Detach = r.on("detach")
	o.SigProxy = r.on("sig-proxy")
	o.DetachKeys = r.str("detach-keys")
	if o.DetachKeys != "" {
		if _, err := parseDetachKeys(o.DetachKeys); err != nil {
			return err
		}
	}
	if o.Detach {
		if len(attach) > 0 {
			return errors.New("conflicting options: cannot specify both --attach and --detach")
		}
		cfg.AttachStdin, cfg.AttachStdout, cfg.AttachStderr, cfg.StdinOnce = false, false, false, false
	}
	return nil
}

// expandEnvFlag reads one -e value: KEY=VALUE as given; a bare KEY takes
// its value from rrun's environment when that has one (run, create, exec).
func expandEnvFlag(s string) (string, error) {
	k, _, hasValue := strings.Cut(s, "=")
	if k == "" {
		return "", errors.New("invalid environment variable: " + s)
	}
	if v, ok := os.LookupEnv(k); ok && !hasValue {
		return k + "=" + v, nil
	}
	return s, nil
}

// envAndLabels reads -e and --env-file (files first, so -e overrides), -l
// and --label-file. -e KEY takes KEY's value from rrun's environment; when
// rrun has none, KEY stays bare, which the engine must read as docker's
// daemon does: unset KEY, even if the image sets it. In a file, a bare KEY
// without a value anywhere is left out.
func (r flagReader) envAndLabels(o *createOptions, _ bool) error {
	env, err := r.each("env", expandEnvFlag)
	if err != nil {
		return err
	}
	var fromFiles []string
	for _, file := range r.list("env-file") {
		vars, err := parseKVFile(file, "env", os.LookupEnv)
		if err != nil {
			return fmt.Errorf("--env-file: %w", err)
		}
		fromFiles = append(fromFiles, vars...)
	}
	if all := append(fromFiles, env...); len(all) > 0 {
		o.Config.Env = all
	}

	labels, err := r.each("label", func(s string) (string, error) {
		key, _, _ := strings.Cut(s, "=")
		key = strings.TrimLeft(key, " \t")
		if key == "" {
			return "", fmt.Errorf("invalid label '%s': empty name", s)
		}
		if strings.ContainsAny(key, " \t") {
			return "", fmt.Errorf("label '%s' contains whitespaces", key)
		}
		return s, nil
	})
	if err != nil {
		return err
	}
	o.Config.Labels = map[string]string{}
	for _, file := range r.list("label-file") {
		kvs, err := parseKVFile(file, "label", nil)
		if err != nil {
			return fmt.Errorf("--label-file: %w", err)
		}
		for _, kv := range kvs {
			o.Config.Labels = setKV(o.Config.Labels, kv)
		}
	}
	for _, kv := range labels {
		o.Config.Labels = setKV(o.Config.Labels, kv)
	}
	return nil
}

// storage reads -v (binds into HostConfig.Binds, anonymous volumes into
// Config.Volumes), --mount and --tmpfs.
func (r flagReader) storage(o *createOptions, _ bool) error {
	for _, spec := range r.list("volume") {
		source, target, err := parseVolume(spec)
		if err != nil {
			return err
		}
		if source == "" {
			if o.Config.Volumes == nil {
				o.Config.Volumes = map[string]struct{}{}
			}
			o.Config.Volumes[target] = struct{}{}
			continue
		}
		if bind := absBind(spec, source); !slices.Contains(o.HostConfig.Binds, bind) {
			o.HostConfig.Binds = append(o.HostConfig.Binds, bind)
		}
	}
	mounts := r.value("mount")
	for _, s := range mounts.values {
		m, err := parseMount(s)
		if err != nil {
			return mounts.invalid(s, err)
		}
		o.HostConfig.Mounts = append(o.HostConfig.Mounts, m)
	}
	for _, m := range o.HostConfig.Mounts {
		if err := validateMount(m); err != nil {
			return err
		}
	}
	for _, t := range r.list("tmpfs") {
		if o.HostConfig.Tmpfs == nil {
			o.HostConfig.Tmpfs = map[string]string{}
		}
		target, options, _ := strings.Cut(t, ":")
		o.HostConfig.Tmpfs[target] = options
	}
	return nil
}

// ports reads -p (bindings, and the ports they bind exposed) and --expose.
func (r flagReader) ports(o *createOptions, _ bool) error {
	o.HostConfig.PortBindings = network.PortMap{}
	exposed := network.PortSet{}
	for _, spec := range r.list("publish") {
		if strings.Contains(spec, "=") {
			var err error
			if spec, err = publishLongSyntax(spec); err != nil {
				return err
			}
		}
		mappings, err := parsePortSpec(spec)
		if err != nil {
			return err
		}
		for _, m := range mappings {
			exposed[m.port] = struct{}{}
			o.HostConfig.PortBindings[m.port] = append(o.HostConfig.PortBindings[m.port], m.binding)
		}
	}
	for _, e := range r.list("expose") {
		pr, err := network.ParsePortRange(e)
		if err != nil {
			return fmt.Errorf("invalid range format for --expose: %w", err)
		}
		for p := range pr.All() {
			exposed[p] = struct{}{}
		}
	}
	if len(exposed) > 0 {
		o.Config.ExposedPorts = exposed
	}
	return nil
}

// networkLongSyntax is docker's --network name=…,alias=… form.
var networkLongSyntax = regexp.MustCompile(`\w+=\w+(,\w+=\w+)*`)

// network reads --network and the endpoint flags. Without --network the
// mode is "default" (the engine's choice, as moby's NetworkMode.IsDefault
// reads it) and, as docker sends it, the endpoint settings go to the
// network "default"; with one, they go to that network, and are left out
// when there are none.
func (r flagReader) network(o *createOptions, _ bool) error {
	nets := r.list("network")
	mode := network.NetworkDefault
	switch len(nets) {
	case 0:
	case 1:
		mode = nets[0]
	default:
		return fmt.Errorf("--network: rrun connects a container to one network, not %d (%s)", len(nets), strings.Join(nets, ", "))
	}
	if strings.TrimSpace(mode) == "" {
		return errors.New("no name set for network")
	}
	if networkLongSyntax.MatchString(mode) {
		return fmt.Errorf("--network %s: the KEY=VALUE form is not supported: use --network NAME with --network-alias, --ip, --ip6 and --mac-address", mode)
	}
	netMode := container.NetworkMode(mode)
	o.HostConfig.NetworkMode = netMode

	hostConf := o.HostConfig
	dns := r.value("dns")
	for _, s := range dns.values {
		ip, err := parseIPAddr(s)
		if err != nil {
			return dns.invalid(s, err)
		}
		hostConf.DNS = append(hostConf.DNS, ip)
	}
	var err error
	if hostConf.DNSSearch, err = r.each("dns-search", parseDNSSearch); err != nil {
		return err
	}
	if hostConf.ExtraHosts, err = r.each("add-host", parseExtraHost); err != nil {
		return err
	}
	hostConf.DNSOptions = r.list("dns-option")
	// docker never sends these three as null.
	if hostConf.DNS == nil {
		hostConf.DNS = []netip.Addr{}
	}
	if hostConf.DNSSearch == nil {
		hostConf.DNSSearch = []string{}
	}
	if hostConf.DNSOptions == nil {
		hostConf.DNSOptions = []string{}
	}

	ep := &network.EndpointSettings{}
	if aliases := r.list("network-alias"); len(aliases) > 0 {
		if !netMode.IsUserDefined() {
			return errors.New("network-scoped aliases are only supported for user-defined networks")
		}
		ep.Aliases = aliases
	}
	ipv4, err := r.ipAddr("ip", false)
	if err != nil {
		return err
	}
	ipv6, err := r.ipAddr("ip6", true)
	if err != nil {
		return err
	}
	if ipv4.IsValid() || ipv6.IsValid() {
		ep.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: ipv4, IPv6Address: ipv6}
	}
	if mac := r.str("mac-address"); mac != "" {
		hw, err := net.ParseMAC(strings.TrimSpace(mac))
		if err != nil {
			return fmt.Errorf("%s is not a valid mac address", mac)
		}
		ep.MacAddress = network.HardwareAddr(hw)
	}
	endpoints := map[string]*network.EndpointSettings{}
	if len(nets) == 0 || ep.Aliases != nil || ep.IPAMConfig != nil || ep.MacAddress != nil {
		endpoints[mode] = ep
	}
	o.Network = &network.NetworkingConfig{EndpointsConfig: endpoints}
	return nil
}

// ipAddr reads --ip (an IPv4 address) or --ip6 (an IPv6 one).
func (r flagReader) ipAddr(name string, v6 bool) (netip.Addr, error) {
	v := r.value(name)
	s := v.get()
	if s == "" {
		return netip.Addr{}, nil
	}
	ip := net.ParseIP(s)
	switch {
	case ip == nil:
		return netip.Addr{}, v.invalid(s, fmt.Errorf("invalid string being converted to IP address: %s", s))
	case v6 && ip.To4() != nil:
		return netip.Addr{}, v.invalid(s, errors.New("not an IPv6 address"))
	case v6:
		return netip.AddrFrom16([16]byte(ip.To16())), nil
	case ip.To4() == nil:
		return netip.Addr{}, v.invalid(s, errors.New("not an IPv4 address"))
	}
	return netip.AddrFrom4([4]byte(ip.To4())), nil
}

// resources reads the cgroup limits, ulimits, devices and --shm-size.
func (r flagReader) resources(o *createOptions, _ bool) error {
	res := &o.HostConfig.Resources
	var err error
	if res.Memory, err = r.bytes("memory"); err != nil {
		return err
	}
	if s := r.str("memory-swap"); s == "-1" {
		res.MemorySwap = -1
	} else if res.MemorySwap, err = r.bytes("memory-swap"); err != nil {
		return err
	}
	if s := r.str("cpus"); s != "" {
		cpus, ok := new(big.Rat).SetString(s)
		if !ok {
			return r.value("cpus").invalid(s, fmt.Errorf("failed to parse %v as a rational number", s))
		}
		nano := cpus.Mul(cpus, big.NewRat(1e9, 1))
		if !nano.IsInt() {
			return r.value("cpus").invalid(s, errors.New("value is too precise"))
		}
		res.NanoCPUs = nano.Num().Int64()
	}
	if res.CPUShares, err = r.int("cpu-shares"); err != nil {
		return err
	}
	res.CpusetCpus = r.str("cpuset-cpus")
	if r.changed("pids-limit") {
		n, err := r.int("pids-limit")
		if err != nil {
			return err
		}
		res.PidsLimit = &n
	}
	oom, err := r.int("oom-score-adj")
	if err != nil {
		return err
	}
	if oom < -1000 || oom > 1000 {
		return fmt.Errorf("Invalid value %d, range for oom score adj is [-1000, 1000]", oom) //nolint:staticcheck // dockerd's wording
	}
	o.HostConfig.OomScoreAdj = int(oom)
	if o.HostConfig.ShmSize, err = r.bytes("shm-size"); err != nil {
		return err
	}

	ulimits := r.value("ulimit")
	for _, s := range ulimits.values {
		u, err := units.ParseUlimit(s)
		if err != nil {
			return ulimits.invalid(s, err)
		}
		// A later --ulimit for the same resource replaces the earlier.
		i := slices.IndexFunc(res.Ulimits, func(have *container.Ulimit) bool { return have.Name == u.Name })
		if i >= 0 {
			res.Ulimits[i] = u
		} else {
			res.Ulimits = append(res.Ulimits, u)
		}
	}
	for _, spec := range r.list("device") {
		d, err := parseDevice(spec)
		if err != nil {
			return err
		}
		res.Devices = append(res.Devices, d)
	}

	sysctls := r.value("sysctl")
	for _, s := range sysctls.values {
		if err := checkSysctl(s); err != nil {
			return sysctls.invalid(s, err)
		}
		o.HostConfig.Sysctls = setKV(o.HostConfig.Sysctls, s)
	}
	return nil
}

// healthcheck reads the --health-* flags as docker does: --no-healthcheck
// is the test NONE, --health-cmd a CMD-SHELL test, and the other settings
// alone keep the image's test with new timings.
func (r flagReader) healthcheck(o *createOptions, _ bool) error {
	var (
		hc  container.HealthConfig
		err error
	)
	for _, d := range []struct {
		name string
		to   *time.Duration
	}{
		{"health-interval", &hc.Interval},
		{"health-timeout", &hc.Timeout},
		{"health-start-period", &hc.StartPeriod},
		{"health-start-interval", &hc.StartInterval},
	} {
		if *d.to, err = r.duration(d.name); err != nil {
			return err
		}
		if *d.to < 0 {
			return fmt.Errorf("--%s cannot be negative", d.name)
		}
	}
	retries, err := r.int("health-retries")
	if err != nil {
		return err
	}
	if retries < 0 {
		return errors.New("--health-retries cannot be negative")
	}
	hc.Retries = int(retries)
	if cmd := r.str("health-cmd"); cmd != "" {
		hc.Test = []string{"CMD-SHELL", cmd}
	}
	haveSettings := hc.Test != nil || hc.Interval != 0 || hc.Timeout != 0 ||
		hc.StartPeriod != 0 || hc.StartInterval != 0 || hc.Retries != 0
	switch {
	case r.on("no-healthcheck") && haveSettings:
		return errors.New("--no-healthcheck conflicts with --health-* options")
	case r.on("no-healthcheck"):
		o.Config.Healthcheck = &container.HealthConfig{Test: []string{"NONE"}}
	case haveSettings:
		o.Config.Healthcheck = &hc
	}
	return nil
}

// namespaces reads --pid, --uts, --ipc, --userns and --isolation. Rootless,
// rrun takes every mode docker does except user namespaces other than its
// own: the container's user namespace is always rrun's rootless one, which
// docker calls "host".
func (r flagReader) namespaces(o *createOptions, _ bool) error {
	hc := o.HostConfig
	hc.PidMode = container.PidMode(r.str("pid"))
	if !hc.PidMode.Valid() {
		return errors.New("--pid: invalid PID mode")
	}
	hc.UTSMode = container.UTSMode(r.str("uts"))
	if !hc.UTSMode.Valid() {
		return errors.New("--uts: invalid UTS mode")
	}
	if hc.UTSMode.IsHost() && o.Config.Hostname != "" {
		return errors.New("conflicting options: hostname and the UTS mode")
	}
	hc.IpcMode = container.IpcMode(r.str("ipc"))
	if !hc.IpcMode.Valid() {
		return fmt.Errorf("invalid IPC mode: %v", hc.IpcMode)
	}
	hc.UsernsMode = container.UsernsMode(r.str("userns"))
	if !hc.UsernsMode.Valid() {
		return fmt.Errorf("--userns: invalid USER mode %q: rrun runs containers in your rootless user namespace, which is --userns=host", hc.UsernsMode)
	}
	hc.Isolation = container.Isolation(r.str("isolation"))
	if !hc.Isolation.IsDefault() {
		return fmt.Errorf("Invalid isolation: %q - linux only supports 'default'", hc.Isolation) //nolint:staticcheck // dockerd's wording
	}
	return nil
}

// restart reads --restart, with the checks dockerd makes, and its conflict
// with --rm.
func (r flagReader) restart(o *createOptions, _ bool) error {
	policy := r.str("restart")
	if policy == "" {
		return nil
	}
	name, count, hasCount := strings.Cut(policy, ":")
	if hasCount && name == "" {
		return errors.New("invalid restart policy format: no policy provided before colon")
	}
	rp := container.RestartPolicy{Name: container.RestartPolicyMode(name)}
	if count != "" {
		n, err := strconv.Atoi(count)
		if err != nil {
			return errors.New("invalid restart policy format: maximum retry count must be an integer")
		}
		rp.MaximumRetryCount = n
	}
	if err := container.ValidateRestartPolicy(rp); err != nil {
		return err
	}
	o.HostConfig.RestartPolicy = rp
	if o.HostConfig.AutoRemove && !rp.IsNone() {
		return errors.New("conflicting options: cannot specify both --restart and --rm")
	}
	return nil
}

// logging reads --log-driver and --log-opt. rrun writes logs as docker's
// json-file driver does, or not at all (none).
func (r flagReader) logging(o *createOptions, _ bool) error {
	driver, opts := r.str("log-driver"), r.list("log-opt")
	config := map[string]string{}
	for _, kv := range opts {
		k, v, _ := strings.Cut(kv, "=")
		config[k] = v
	}
	switch driver {
	case "", "json-file":
		for k, v := range config {
			switch k {
			case "max-size":
				size, err := units.FromHumanSize(v)
				if err != nil {
					return err
				}
				if size <= 0 {
					return errors.New("max-size must be a positive number")
				}
			case "max-file":
				n, err := strconv.Atoi(v)
				if err != nil {
					return err
				}
				if n < 1 {
					return errors.New("max-file cannot be less than 1")
				}
			default:
				return fmt.Errorf("unknown log opt '%s' for json-file log driver: rrun supports max-size and max-file", k)
			}
		}
	case "none":
		if len(opts) > 0 {
			return fmt.Errorf("invalid logging opts for driver %s", driver)
		}
	default:
		return fmt.Errorf("logging driver %q is not supported by rrun: use json-file or none", driver)
	}
	o.HostConfig.LogConfig = container.LogConfig{Type: driver, Config: config}
	return nil
}

// security reads --security-opt.
func (r flagReader) security(o *createOptions, _ bool) error {
	var err error
	hc := o.HostConfig
	hc.SecurityOpt, hc.MaskedPaths, hc.ReadonlyPaths, err = parseSecurityOpts(r.list("security-opt"))
	return err
}
