package cmd

// Parsers for the values of run/create flags, each giving docker's result
// and docker's error for the same input.

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
)

// parseKVFile reads an --env-file or --label-file: one KEY=VALUE a line,
// leading blanks and a UTF-8 BOM dropped, blank lines and lines starting
// with # skipped, the value kept as written (quotes and trailing blanks
// included). A bare KEY takes its value from lookup, and is left out when
// lookup has none (or is nil). kind ("env", "label") names the file in
// errors.
func parseKVFile(file, kind string, lookup func(string) (string, bool)) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fail := func(line int, format string, args ...any) error {
		return fmt.Errorf("invalid %s file (%s): line %d: %s", kind, file, line, fmt.Sprintf(format, args...))
	}
	var out []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		b := sc.Bytes()
		if !utf8.Valid(b) {
			return nil, fail(n, "invalid utf8 bytes")
		}
		if n == 1 {
			b = bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF})
		}
		line := strings.TrimLeftFunc(string(b), unicode.IsSpace)
		if line == "" || line[0] == '#' {
			continue
		}
		key, _, hasValue := strings.Cut(line, "=")
		switch {
		case key == "":
			return nil, fail(n, "no variable name on line '%s'", line)
		case strings.ContainsAny(key, " \t"):
			return nil, fail(n, "variable '%s' contains whitespaces", key)
		case hasValue:
			out = append(out, line)
		case lookup != nil:
			if v, ok := lookup(key); ok {
				out = append(out, key+"="+v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("invalid %s file (%s): %w", kind, file, err)
	}
	return out, nil
}

// parseVolume splits a -v spec, [SOURCE:]TARGET[:OPTIONS]. No source means
// an anonymous volume. The options are the engine's to check.
func parseVolume(spec string) (source, target string, err error) {
	if spec == "" {
		return "", "", errors.New("invalid empty volume spec")
	}
	parts := strings.Split(spec, ":")
	if len(parts) > 3 {
		return "", "", fmt.Errorf("invalid spec: %s: too many colons", spec)
	}
	if slices.Contains(parts, "") {
		return "", "", fmt.Errorf("invalid spec: %s: empty section between colons", spec)
	}
	if len(parts) == 1 {
		return "", parts[0], nil
	}
	return parts[0], parts[1], nil
}

// absBind makes a bind's relative source ("./data:/data") absolute, as
// docker's CLI does; a named volume ("data:/data") is left alone.
func absBind(spec, source string) string {
	if !strings.HasPrefix(source, ".") {
		return spec
	}
	abs, err := filepath.Abs(source)
	if err != nil {
		return spec
	}
	_, rest, _ := strings.Cut(spec, ":")
	return abs + ":" + rest
}

// parseMount parses a --mount value: CSV fields (quoted as CSV quotes),
// each key=value or a bare boolean key.
func parseMount(value string) (mount.Mount, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return mount.Mount{}, errors.New("value is empty")
	}
	fields, err := csv.NewReader(strings.NewReader(value)).Read()
	if err != nil {
		return mount.Mount{}, err
	}
	m := mount.Mount{Type: mount.TypeVolume}
	bind := func() *mount.BindOptions {
		if m.BindOptions == nil {
			m.BindOptions = &mount.BindOptions{}
		}
		return m.BindOptions
	}
	volume := func() *mount.VolumeOptions {
		if m.VolumeOptions == nil {
			m.VolumeOptions = &mount.VolumeOptions{}
		}
		return m.VolumeOptions
	}
	driver := func() *mount.Driver {
		if volume().DriverConfig == nil {
			m.VolumeOptions.DriverConfig = &mount.Driver{}
		}
		return m.VolumeOptions.DriverConfig
	}
	tmpfs := func() *mount.TmpfsOptions {
		if m.TmpfsOptions == nil {
			m.TmpfsOptions = &mount.TmpfsOptions{}
		}
		return m.TmpfsOptions
	}
	for _, field := range fields {
		key, val, hasValue := strings.Cut(field, "=")
		if k := strings.TrimSpace(key); k != key {
			return m, fmt.Errorf("invalid option '%s' in '%s': option should not have whitespace", k, field)
		}
		if hasValue {
			if v := strings.TrimSpace(val); v == "" {
				return m, fmt.Errorf("invalid value for '%s': value is empty", key)
			} else if v != val {
				return m, fmt.Errorf("invalid value for '%s' in '%s': value should not have whitespace", key, field)
			}
		}
		key = strings.ToLower(key)
		if !hasValue {
			switch key {
			case "readonly", "ro", "volume-nocopy", "bind-nonrecursive", "bind-create-src":
			default:
				return m, fmt.Errorf("invalid field '%s' must be a key=value pair", field)
			}
		}
		switch key {
		case "type":
			m.Type = mount.Type(strings.ToLower(val))
		case "source", "src":
			m.Source = val
			if !filepath.IsAbs(val) && strings.HasPrefix(val, ".") {
				if abs, err := filepath.Abs(val); err == nil {
					m.Source = abs
				}
			}
		case "target", "dst", "destination":
			m.Target = val
		case "readonly", "ro":
			if m.ReadOnly, err = mountBool(key, val, hasValue); err != nil {
				return m, err
			}
		case "consistency": // accepted, and without effect on Linux
			m.Consistency = mount.Consistency(strings.ToLower(val))
		case "bind-propagation":
			bind().Propagation = mount.Propagation(strings.ToLower(val))
		case "bind-nonrecursive":
			return m, errors.New("bind-nonrecursive is deprecated, use bind-recursive=disabled instead")
		case "bind-recursive":
			switch val {
			case "enabled":
			case "disabled":
				bind().NonRecursive = true
			case "writable":
				bind().ReadOnlyNonRecursive = true
			case "readonly":
				bind().ReadOnlyForceRecursive = true
			default:
				return m, fmt.Errorf(`invalid value for %s: %s (must be "enabled", "disabled", "writable", or "readonly")`, key, val)
			}
		case "bind-create-src":
			if bind().CreateMountpoint, err = mountBool(key, val, hasValue); err != nil {
				return m, err
			}
		case "volume-subpath":
			volume().Subpath = val
		case "volume-nocopy":
			if volume().NoCopy, err = mountBool(key, val, hasValue); err != nil {
				return m, err
			}
		case "volume-label":
			volume().Labels = setKV(volume().Labels, val)
		case "volume-driver":
			driver().Name = val
		case "volume-opt":
			driver().Options = setKV(driver().Options, val)
		case "tmpfs-size":
			size, err := units.RAMInBytes(val)
			if err != nil {
				return m, fmt.Errorf("invalid value for %s: %s", key, val)
			}
			tmpfs().SizeBytes = size
		case "tmpfs-mode":
			mode, err := strconv.ParseUint(val, 8, 32)
			if err != nil {
				return m, fmt.Errorf("invalid value for %s: %s", key, val)
			}
			tmpfs().Mode = os.FileMode(mode)
		default:
			return m, fmt.Errorf("unknown option '%s' in '%s'", key, field)
		}
	}
	return m, checkMountOptions(m)
}

// checkMountOptions is docker's CLI check that a mount's options fit its type.
func checkMountOptions(m mount.Mount) error {
	if m.Type == "" {
		return errors.New("type is required")
	}
	if m.Type != mount.TypeBind && m.BindOptions != nil {
		return fmt.Errorf("cannot mix 'bind-*' options with mount type '%s'", m.Type)
	}
	if m.Type != mount.TypeVolume && m.VolumeOptions != nil {
		return fmt.Errorf("cannot mix 'volume-*' options with mount type '%s'", m.Type)
	}
	if m.Type != mount.TypeTmpfs && m.TmpfsOptions != nil {
		return fmt.Errorf("cannot mix 'tmpfs-*' options with mount type '%s'", m.Type)
	}
	if b := m.BindOptions; b != nil {
		if b.ReadOnlyNonRecursive && !m.ReadOnly {
			return errors.New("option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction")
		}
		if b.ReadOnlyForceRecursive {
			if !m.ReadOnly {
				return errors.New("option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction")
			}
			if b.Propagation != mount.PropagationRPrivate {
				return errors.New("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction")
			}
		}
	}
	return nil
}

// validateMount is the check dockerd makes of a mount before touching the
// filesystem, with its wording. It belongs to the engine (the Engine API
// receives mounts too) and should move there with container create.
func validateMount(m mount.Mount) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("invalid mount config for type %q: %s", m.Type, fmt.Sprintf(format, args...))
	}
	switch m.Type {
	case mount.TypeBind, mount.TypeVolume, mount.TypeTmpfs:
	case mount.TypeImage, mount.TypeNamedPipe, mount.TypeCluster:
		return fail("mount type not supported by rrun: use bind, volume or tmpfs")
	default:
		return fail("mount type unknown")
	}
	switch {
	case m.Target == "":
		return fail("field Target must not be empty")
	case m.Target == "/":
		return fail("invalid specification: destination can't be '/'")
	case !path.IsAbs(m.Target):
		return fail("invalid mount path: '%s' mount path must be absolute", m.Target)
	}
	switch m.Type {
	case mount.TypeBind:
		if m.Source == "" {
			return fail("field Source must not be empty")
		}
		if !path.IsAbs(m.Source) {
			return fail("invalid mount path: '%s' mount path must be absolute", m.Source)
		}
		if b := m.BindOptions; b != nil && b.Propagation != "" && !slices.Contains(mount.Propagations, b.Propagation) {
			return fail("invalid propagation mode: %s", b.Propagation)
		}
	case mount.TypeVolume:
		if m.Source == "" && m.ReadOnly {
			return fail("must not set ReadOnly mode when using anonymous volumes")
		}
		if m.Source == "" && m.VolumeOptions != nil && m.VolumeOptions.Subpath != "" {
			return fail("must not set Subpath when using anonymous volumes")
		}
	case mount.TypeTmpfs:
		if m.Source != "" {
			return fail("field Source must not be specified")
		}
	}
	return nil
}

func mountBool(key, val string, hasValue bool) (bool, error) {
	if !hasValue {
		return true, nil
	}
	switch val {
	case "1", "true":
		return true, nil
	case "0", "false":
		return false, nil
	}
	return false, fmt.Errorf(`invalid value for '%s': invalid boolean value (%q): must be one of "true", "1", "false", or "0" (default "true")`, key, val)
}

// setKV sets KEY=VALUE (or KEY, to "") in m, making m if needed.
func setKV(m map[string]string, kv string) map[string]string {
	k, v, _ := strings.Cut(kv, "=")
	if k == "" {
		return m
	}
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}

// portMapping is one container port of a -p spec and its host binding.
type portMapping struct {
	port    network.Port
	binding network.PortBinding
}

// parsePortSpec parses a -p spec, [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO],
// where either port may be a range (8000-8010) and an IPv6 address is
// written in brackets ([::1]:8080:80). Each container port of a range maps
// to the host port at the same offset; a single container port with a host
// range is bound to any free port of that range.
func parsePortSpec(spec string) ([]portMapping, error) {
	ip, hostPort, containerPort := splitPortSpec(spec)
	containerPort, proto, _ := strings.Cut(containerPort, "/")
	if containerPort == "" {
		return nil, fmt.Errorf("no port specified: %s<empty>", spec)
	}
	proto = strings.ToLower(proto)
	switch proto {
	case "":
		proto = "tcp"
	case "tcp", "udp", "sctp":
	default:
		return nil, errors.New("invalid proto: " + proto)
	}
	if strings.HasPrefix(ip, "[") {
		host, _, err := net.SplitHostPort(ip + ":")
		if err != nil {
			return nil, fmt.Errorf("invalid IP address %v: %w", ip, err)
		}
		ip = host
	}
	var hostIP netip.Addr
	if ip != "" {
		var err error
		if hostIP, err = netip.ParseAddr(ip); err != nil {
			return nil, errors.New("invalid IP address: " + ip)
		}
	}
	cStart, cEnd, err := portRange(containerPort)
	if err != nil {
		return nil, errors.New("invalid containerPort: " + containerPort)
	}
	var hStart, hEnd int
	if hostPort != "" {
		if hStart, hEnd, err = portRange(hostPort); err != nil {
			return nil, errors.New("invalid hostPort: " + hostPort)
		}
		if cEnd-cStart != hEnd-hStart && cEnd != cStart {
			return nil, fmt.Errorf("invalid ranges specified for container and host Ports: %s and %s", containerPort, hostPort)
		}
	}
	count := cEnd - cStart + 1
	out := make([]portMapping, 0, count)
	for i := range count {
		binding := network.PortBinding{HostIP: hostIP}
		if hostPort != "" {
			binding.HostPort = strconv.Itoa(hStart + i)
			if count == 1 && hStart != hEnd {
				binding.HostPort += "-" + strconv.Itoa(hEnd)
			}
		}
		port, _ := network.PortFrom(uint16(cStart+i), network.IPProtocol(proto))
		out = append(out, portMapping{port: port, binding: binding})
	}
	return out, nil
}

// splitPortSpec splits at colons from the right: the last part is the
// container port, the one before the host port, and the rest (which may
// hold colons, as an IPv6 address does) the host IP.
func splitPortSpec(spec string) (ip, hostPort, containerPort string) {
	parts := strings.Split(spec, ":")
	n := len(parts)
	switch n {
	case 1:
		return "", "", parts[0]
	case 2:
		return "", parts[0], parts[1]
	}
	return strings.Join(parts[:n-2], ":"), parts[n-2], parts[n-1]
}

func portRange(s string) (start, end int, err error) {
	r, err := network.ParsePortRange(s)
	if err != nil {
		return 0, 0, err
	}
	return int(r.Start()), int(r.End()), nil
}

// publishLongSyntax turns -p published=8080,target=80,protocol=udp into
// the short syntax, 8080:80/udp.
func publishLongSyntax(spec string) (string, error) {
	params := map[string]string{"protocol": "tcp"}
	for _, param := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(param, "=")
		if !ok || k == "" {
			return "", fmt.Errorf("invalid publish opts format (should be name=value but got '%s')", param)
		}
		params[k] = v
	}
	return fmt.Sprintf("%s:%s/%s", params["published"], params["target"], params["protocol"]), nil
}

// parseDevice parses --device HOST[:CONTAINER][:PERMISSIONS], PERMISSIONS
// being some of r, w and m (default rwm).
func parseDevice(spec string) (container.DeviceMapping, error) {
	parts := strings.Split(spec, ":")
	if len(parts) > 3 || parts[0] == "" {
		return container.DeviceMapping{}, fmt.Errorf("bad format for path: %s", spec)
	}
	d := container.DeviceMapping{PathOnHost: parts[0], CgroupPermissions: "rwm"}
	switch len(parts) {
	case 2:
		if validDeviceMode(parts[1]) {
			d.CgroupPermissions = parts[1]
		} else {
			d.PathInContainer = parts[1]
		}
	case 3:
		if !validDeviceMode(parts[2]) {
			return d, fmt.Errorf("bad mode specified: %s", parts[2])
		}
		d.PathInContainer, d.CgroupPermissions = parts[1], parts[2]
	}
	if d.PathInContainer == "" {
		d.PathInContainer = d.PathOnHost
	}
	if !path.IsAbs(d.PathInContainer) {
		return d, fmt.Errorf("%s is not an absolute path", d.PathInContainer)
	}
	return d, nil
}

// validDeviceMode says whether mode is some of r, w and m, each once.
func validDeviceMode(mode string) bool {
	if mode == "" {
		return false
	}
	seen := map[rune]bool{}
	for _, c := range mode {
		if !strings.ContainsRune("rwm", c) || seen[c] {
			return false
		}
		seen[c] = true
	}
	return true
}

// hostGateway is the --add-host value that stands for the host's address.
const hostGateway = "host-gateway"

// parseExtraHost checks an --add-host value, HOST:IP or HOST=IP (IP may be
// in brackets, or host-gateway), and returns it as the Engine API takes it:
// HOST:IP.
func parseExtraHost(val string) (string, error) {
	host, ip, ok := strings.Cut(val, "=")
	if !ok {
		host, ip, ok = strings.Cut(val, ":") // the first colon: an IPv6 address has more
	}
	if !ok || host == "" || strings.Contains(host, ":") {
		return "", fmt.Errorf("bad format for add-host: %q", val)
	}
	if ip != hostGateway {
		if len(ip) > 2 && ip[0] == '[' && ip[len(ip)-1] == ']' {
			ip = ip[1 : len(ip)-1]
		}
		if net.ParseIP(strings.TrimSpace(ip)) == nil {
			return "", fmt.Errorf("invalid IP address in add-host: %q", ip)
		}
	}
	return host + ":" + ip, nil
}

// parseIPAddr parses an IP address as docker's --dns does, returning it in
// canonical form (an IPv4-mapped IPv6 address becomes IPv4).
func parseIPAddr(val string) (netip.Addr, error) {
	ip := net.ParseIP(strings.TrimSpace(val))
	if ip == nil {
		return netip.Addr{}, fmt.Errorf("IP address is not correctly formatted: %s", val)
	}
	return netip.ParseAddr(ip.String())
}

var (
	dnsLabel     = `[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?`
	dnsDomainRE  = regexp.MustCompile(`^(` + dnsLabel + `(?:\.` + dnsLabel + `)*)\.?\s*$`)
	dnsHasLetter = regexp.MustCompile(`[a-zA-Z]`)
)

// parseDNSSearch checks a --dns-search domain; "." means none.
func parseDNSSearch(val string) (string, error) {
	val = strings.Trim(val, " ")
	if val == "." {
		return val, nil
	}
	if m := dnsDomainRE.FindStringSubmatch(val); m != nil && dnsHasLetter.MatchString(val) && len(m[1]) < 255 {
		return m[1], nil
	}
	return "", fmt.Errorf("%s is not a valid domain", val)
}

// namespacedSysctls are the sysctls docker accepts with --sysctl, besides
// the net.* and fs.mqueue.* families: those namespaced by IPC.
var namespacedSysctls = []string{
	"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
	"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
}

func checkSysctl(val string) error {
	k, _, ok := strings.Cut(val, "=")
	if ok && k != "" && (slices.Contains(namespacedSysctls, k) || strings.HasPrefix(k, "net.") || strings.HasPrefix(k, "fs.mqueue.")) {
		return nil
	}
	return fmt.Errorf("sysctl '%s' is not allowed", val)
}

// parseSecurityOpts checks --security-opt values (KEY=VALUE, KEY:VALUE, or
// no-new-privileges) and replaces seccomp=FILE by seccomp=<the profile>,
// as docker sends the profile rather than its path. systempaths=unconfined
// is taken out, and turns the masked and read-only paths off (empty, not
// nil, lists).
func parseSecurityOpts(opts []string) (out, maskedPaths, readonlyPaths []string, err error) {
	for _, opt := range opts {
		k, v, ok := strings.Cut(opt, "=")
		if !ok && k != "no-new-privileges" {
			k, v, ok = strings.Cut(opt, ":")
		}
		if (!ok || v == "") && k != "no-new-privileges" {
			return nil, nil, nil, fmt.Errorf("invalid --security-opt: %q", opt)
		}
		switch {
		case opt == "systempaths=unconfined":
			maskedPaths, readonlyPaths = []string{}, []string{}
			continue
		case k == "seccomp" && v != "builtin" && v != "unconfined":
			profile, err := os.ReadFile(v)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("opening seccomp profile (%s) failed: %w", v, err)
			}
			var b bytes.Buffer
			if err := json.Compact(&b, profile); err != nil {
				return nil, nil, nil, fmt.Errorf("compacting json for seccomp profile (%s) failed: %w", v, err)
			}
			opt = "seccomp=" + b.String()
		}
		out = append(out, opt)
	}
	return out, maskedPaths, readonlyPaths, nil
}
