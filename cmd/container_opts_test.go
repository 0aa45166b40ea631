package cmd

import (
	"bytes"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/urfave/cli/v2"
)

// parseArgs runs `rrun ARGS…` through a cli.App whose run and create
// commands are set up as app.go must set them up (HideHelp, short option
// handling), and returns what parseCreateOptions made of the flags.
func parseArgs(t *testing.T, args ...string) (*createOptions, error) {
	t.Helper()
	opts, _, err := parseArgsOutput(t, args...)
	return opts, err
}

func parseArgsOutput(t *testing.T, args ...string) (*createOptions, string, error) {
	t.Helper()
	var got *createOptions
	action := func(forRun bool) cli.ActionFunc {
		return func(c *cli.Context) error {
			o, err := parseCreateOptions(c, forRun)
			got = o
			return err
		}
	}
	var out bytes.Buffer
	app := &cli.App{
		Name:                   "rrun",
		Writer:                 &out,
		ErrWriter:              &out,
		UseShortOptionHandling: true,
		HideHelpCommand:        true,
		Commands: []*cli.Command{
			{Name: "run", HideHelp: true, Flags: containerFlags(true), Action: action(true)},
			{Name: "create", HideHelp: true, Flags: containerFlags(false), Action: action(false)},
		},
	}
	err := app.Run(append([]string{"rrun"}, args...))
	return got, out.String(), err
}

// Every error a run/create flag can give, with docker's wording.
func TestCreateOptionsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // the whole message, or its start when it ends in "…"
	}{
		{[]string{"run"}, "\"run\" requires at least 1 argument\nUsage: rrun run [OPTIONS] IMAGE [COMMAND] [ARG...]"},
		{[]string{"create"}, "\"create\" requires at least 1 argument\nUsage: rrun create [OPTIONS] IMAGE [COMMAND] [ARG...]"},
		{[]string{"create", "-d", "alpine"}, "flag provided but not defined: -d"},
		{[]string{"run", "--rm=maybe", "alpine"}, `invalid boolean value "maybe" for -rm: strconv.ParseBool: parsing "maybe": invalid syntax`},
		{[]string{"run", "--pull", "sometimes", "alpine"}, `invalid pull option: 'sometimes': must be one of "always", "missing" or "never"`},
		{[]string{"run", "--detach-keys", "ctrl-1", "alpine"}, "invalid detach keys (ctrl-1) provided"},

		// Streams.
		{[]string{"run", "-a", "stdio", "alpine"}, `invalid argument "stdio" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`},
		{[]string{"run", "-d", "-a", "stdout", "alpine"}, "conflicting options: cannot specify both --attach and --detach"},

		// Environment and labels.
		{[]string{"run", "-e", "=x", "alpine"}, `invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x`},
		{[]string{"run", "--env-file", "/nonexistent/env", "alpine"}, "--env-file: open /nonexistent/env: no such file or directory"},
		{[]string{"run", "-l", "=x", "alpine"}, `invalid argument "=x" for "-l, --label" flag: invalid label '=x': empty name`},
		{[]string{"run", "--label", "a b=x", "alpine"}, `invalid argument "a b=x" for "-l, --label" flag: label 'a b' contains whitespaces`},
		{[]string{"run", "--label-file", "/nonexistent/labels", "alpine"}, "--label-file: open /nonexistent/labels: no such file or directory"},

		// Volumes and mounts.
		{[]string{"run", "-v", "", "alpine"}, "invalid empty volume spec"},
		{[]string{"run", "-v", "/a:/b:ro:z", "alpine"}, "invalid spec: /a:/b:ro:z: too many colons"},
		{[]string{"run", "-v", ":/b", "alpine"}, "invalid spec: :/b: empty section between colons"},
		{[]string{"run", "-v", "/a:/b:", "alpine"}, "invalid spec: /a:/b:: empty section between colons"},
		{[]string{"run", "--mount", "", "alpine"}, `invalid argument "" for "--mount" flag: value is empty`},
		{[]string{"run", "--mount", `type=bind,"src=/a`, "alpine"}, `invalid argument "type=bind,\"src=/a" for "--mount" flag: parse error on line 1, column 18: extraneous or missing " in quoted-field`},
		{[]string{"run", "--mount", "type=bind,src=/a,dst", "alpine"}, `invalid argument "type=bind,src=/a,dst" for "--mount" flag: invalid field 'dst' must be a key=value pair`},
		{[]string{"run", "--mount", "type=bind,foo=bar", "alpine"}, `invalid argument "type=bind,foo=bar" for "--mount" flag: unknown option 'foo' in 'foo=bar'`},
		{[]string{"run", "--mount", "type=bind,src= /a", "alpine"}, `invalid argument "type=bind,src= /a" for "--mount" flag: invalid value for 'src' in 'src= /a': value should not have whitespace`},
		{[]string{"run", "--mount", "type=bind,src=", "alpine"}, `invalid argument "type=bind,src=" for "--mount" flag: invalid value for 'src': value is empty`},
		{[]string{"run", "--mount", "type=bind, src=/a", "alpine"}, `invalid argument "type=bind, src=/a" for "--mount" flag: invalid option 'src' in ' src=/a': option should not have whitespace`},
		{[]string{"run", "--mount", "type=bind,src=/a,dst=/b,ro=maybe", "alpine"}, `invalid argument "type=bind,src=/a,dst=/b,ro=maybe" for "--mount" flag: invalid value for 'ro': invalid boolean value ("maybe"): must be one of "true", "1", "false", or "0" (default "true")`},
		{[]string{"run", "--mount", "type=bind,src=/a,dst=/b,volume-nocopy", "alpine"}, `invalid argument "type=bind,src=/a,dst=/b,volume-nocopy" for "--mount" flag: cannot mix 'volume-*' options with mount type 'bind'`},
		{[]string{"run", "--mount", "type=volume,dst=/b,bind-propagation=shared", "alpine"}, `invalid argument "type=volume,dst=/b,bind-propagation=shared" for "--mount" flag: cannot mix 'bind-*' options with mount type 'volume'`},
		{[]string{"run", "--mount", "type=bind,src=/a,dst=/b,tmpfs-size=1m", "alpine"}, `invalid argument "type=bind,src=/a,dst=/b,tmpfs-size=1m" for "--mount" flag: cannot mix 'tmpfs-*' options with mount type 'bind'`},
		{[]string{"run", "--mount", "type=tmpfs,dst=/t,tmpfs-size=lots", "alpine"}, `invalid argument "type=tmpfs,dst=/t,tmpfs-size=lots" for "--mount" flag: invalid value for tmpfs-size: lots`},
		{[]string{"run", "--mount", "type=tmpfs,dst=/t,tmpfs-mode=999", "alpine"}, `invalid argument "type=tmpfs,dst=/t,tmpfs-mode=999" for "--mount" flag: invalid value for tmpfs-mode: 999`},
		{[]string{"run", "--mount", "type=bind,src=/a,dst=/b,bind-nonrecursive", "alpine"}, `invalid argument "type=bind,src=/a,dst=/b,bind-nonrecursive" for "--mount" flag: bind-nonrecursive is deprecated, use bind-recursive=disabled instead`},
		{[]string{"run", "--mount", "type=bind,src=/a,dst=/b,bind-recursive=sometimes", "alpine"}, `invalid argument "type=bind,src=/a,dst=/b,bind-recursive=sometimes" for "--mount" flag: invalid value for bind-recursive: sometimes (must be "enabled", "disabled", "writable", or "readonly")`},
		{[]string{"run", "--mount", "type=bind,src=/a,dst=/b,bind-recursive=writable", "alpine"}, `invalid argument "type=bind,src=/a,dst=/b,bind-recursive=writable" for "--mount" flag: option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction`},
		{[]string{"run", "--mount", "type=bind,src=/a,dst=/b,ro,bind-recursive=readonly", "alpine"}, `invalid argument "type=bind,src=/a,dst=/b,ro,bind-recursive=readonly" for "--mount" flag: option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction`},
		{[]string{"run", "--mount", "type=,dst=/b", "alpine"}, `invalid argument "type=,dst=/b" for "--mount" flag: invalid value for 'type': value is empty`},
		{[]string{"run", "--mount", "type=bind,src=/a", "alpine"}, `invalid mount config for type "bind": field Target must not be empty`},
		{[]string{"run", "--mount", "type=bind,dst=/b", "alpine"}, `invalid mount config for type "bind": field Source must not be empty`},
		{[]string{"run", "--mount", "type=bind,src=/a,dst=b", "alpine"}, `invalid mount config for type "bind": invalid mount path: 'b' mount path must be absolute`},
		{[]string{"run", "--mount", "type=bind,src=/a,dst=/", "alpine"}, `invalid mount config for type "bind": invalid specification: destination can't be '/'`},
		{[]string{"run", "--mount", "type=bind,src=/a,dst=/b,bind-propagation=sideways", "alpine"}, `invalid mount config for type "bind": invalid propagation mode: sideways`},
		{[]string{"run", "--mount", "type=tmpfs,src=/a,dst=/b", "alpine"}, `invalid mount config for type "tmpfs": field Source must not be specified`},
		{[]string{"run", "--mount", "type=volume,dst=/b,readonly", "alpine"}, `invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes`},
		{[]string{"run", "--mount", "type=volume,dst=/b,volume-subpath=x", "alpine"}, `invalid mount config for type "volume": must not set Subpath when using anonymous volumes`},
		{[]string{"run", "--mount", "type=npipe,src=/a,dst=/b", "alpine"}, `invalid mount config for type "npipe": mount type not supported by rrun: use bind, volume or tmpfs`},
		{[]string{"run", "--mount", "type=floppy,dst=/b", "alpine"}, `invalid mount config for type "floppy": mount type unknown`},

		// Ports.
		{[]string{"run", "-p", "80/icmp", "alpine"}, "invalid proto: icmp"},
		{[]string{"run", "-p", "8080:", "alpine"}, "no port specified: 8080:<empty>"},
		{[]string{"run", "-p", "1.2.3:80:80", "alpine"}, "invalid IP address: 1.2.3"},
		{[]string{"run", "-p", "[::1:80:80", "alpine"}, "invalid IP address [::1: address [::1:: missing ']' in address"},
		{[]string{"run", "-p", "70000", "alpine"}, "invalid containerPort: 70000"},
		{[]string{"run", "-p", "http:80", "alpine"}, "invalid hostPort: http"},
		{[]string{"run", "-p", "90-80", "alpine"}, "invalid containerPort: 90-80"},
		{[]string{"run", "-p", "8000-8001:80-82", "alpine"}, "invalid ranges specified for container and host Ports: 80-82 and 8000-8001"},
		{[]string{"run", "-p", "published=8080,target", "alpine"}, "invalid publish opts format (should be name=value but got 'target')"},
		{[]string{"run", "--expose", "90-80", "alpine"}, "invalid range format for --expose: invalid port range: 90-80"},
		{[]string{"run", "--expose", "http", "alpine"}, "invalid range format for --expose: invalid start port 'http': invalid syntax"},

		// Network.
		{[]string{"run", "--network", "a", "--network", "b", "alpine"}, "--network: rrun connects a container to one network, not 2 (a, b)"},
		{[]string{"run", "--network", "name=a,alias=b", "alpine"}, "--network name=a,alias=b: the KEY=VALUE form is not supported: use --network NAME with --network-alias, --ip, --ip6 and --mac-address"},
		{[]string{"run", "--network", " ", "alpine"}, "no name set for network"},
		{[]string{"run", "--network-alias", "web", "alpine"}, "network-scoped aliases are only supported for user-defined networks"},
		{[]string{"run", "--network", "host", "--net-alias", "web", "alpine"}, "network-scoped aliases are only supported for user-defined networks"},
		{[]string{"run", "--ip", "10.0.0", "alpine"}, `invalid argument "10.0.0" for "--ip" flag: invalid string being converted to IP address: 10.0.0`},
		{[]string{"run", "--ip", "fd00::1", "alpine"}, `invalid argument "fd00::1" for "--ip" flag: not an IPv4 address`},
		{[]string{"run", "--ip6", "10.0.0.1", "alpine"}, `invalid argument "10.0.0.1" for "--ip6" flag: not an IPv6 address`},
		{[]string{"run", "--mac-address", "92:d0:c6", "alpine"}, "92:d0:c6 is not a valid mac address"},
		{[]string{"run", "--dns", "dns.google", "alpine"}, `invalid argument "dns.google" for "--dns" flag: IP address is not correctly formatted: dns.google`},
		{[]string{"run", "--dns-search", "-bad.example", "alpine"}, `invalid argument "-bad.example" for "--dns-search" flag: -bad.example is not a valid domain`},
		{[]string{"run", "--dns-search", "123", "alpine"}, `invalid argument "123" for "--dns-search" flag: 123 is not a valid domain`},
		{[]string{"run", "--add-host", "db", "alpine"}, `invalid argument "db" for "--add-host" flag: bad format for add-host: "db"`},
		{[]string{"run", "--add-host", "=1.2.3.4", "alpine"}, `invalid argument "=1.2.3.4" for "--add-host" flag: bad format for add-host: "=1.2.3.4"`},
		{[]string{"run", "--add-host", "db:gateway", "alpine"}, `invalid argument "db:gateway" for "--add-host" flag: invalid IP address in add-host: "gateway"`},

		// Resources.
		{[]string{"run", "-m", "lots", "alpine"}, `invalid argument "lots" for "-m, --memory" flag: invalid size: 'lots'`},
		{[]string{"run", "--memory-swap", "-2", "alpine"}, `invalid argument "-2" for "--memory-swap" flag: invalid size: '-2'`},
		{[]string{"run", "--shm-size", "1q", "alpine"}, `invalid argument "1q" for "--shm-size" flag: invalid suffix: 'q'`},
		{[]string{"run", "--cpus", "two", "alpine"}, `invalid argument "two" for "--cpus" flag: failed to parse two as a rational number`},
		{[]string{"run", "--cpus", "0.0000000001", "alpine"}, `invalid argument "0.0000000001" for "--cpus" flag: value is too precise`},
		{[]string{"run", "-c", "many", "alpine"}, `invalid argument "many" for "-c, --cpu-shares" flag: strconv.ParseInt: parsing "many": invalid syntax`},
		{[]string{"run", "--pids-limit", "x", "alpine"}, `invalid argument "x" for "--pids-limit" flag: strconv.ParseInt: parsing "x": invalid syntax`},
		{[]string{"run", "--stop-timeout", "10s", "alpine"}, `invalid argument "10s" for "--stop-timeout" flag: strconv.ParseInt: parsing "10s": invalid syntax`},
		{[]string{"run", "--oom-score-adj", "1001", "alpine"}, "Invalid value 1001, range for oom score adj is [-1000, 1000]"},
		{[]string{"run", "--ulimit", "nofile", "alpine"}, `invalid argument "nofile" for "--ulimit" flag: invalid ulimit argument: nofile`},
		{[]string{"run", "--ulimit", "files=1", "alpine"}, `invalid argument "files=1" for "--ulimit" flag: invalid ulimit type: files`},
		{[]string{"run", "--ulimit", "nofile=10:5", "alpine"}, `invalid argument "nofile=10:5" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: 10 > 5`},
		{[]string{"run", "--device", ":/dev/x", "alpine"}, "bad format for path: :/dev/x"},
		{[]string{"run", "--device", "/dev/a:/dev/b:rw:x", "alpine"}, "bad format for path: /dev/a:/dev/b:rw:x"},
		{[]string{"run", "--device", "/dev/a:/dev/b:rwx", "alpine"}, "bad mode specified: rwx"},
		{[]string{"run", "--device", "/dev/a:dev/b", "alpine"}, "dev/b is not an absolute path"},
		{[]string{"run", "--sysctl", "kernel.hostname=x", "alpine"}, `invalid argument "kernel.hostname=x" for "--sysctl" flag: sysctl 'kernel.hostname=x' is not allowed`},
		{[]string{"run", "--sysctl", "net.ipv4.ip_forward", "alpine"}, `invalid argument "net.ipv4.ip_forward" for "--sysctl" flag: sysctl 'net.ipv4.ip_forward' is not allowed`},

		// Healthcheck.
		{[]string{"run", "--no-healthcheck", "--health-cmd", "true", "alpine"}, "--no-healthcheck conflicts with --health-* options"},
		{[]string{"run", "--no-healthcheck", "--health-retries", "2", "alpine"}, "--no-healthcheck conflicts with --health-* options"},
		{[]string{"run", "--health-interval", "-1s", "alpine"}, "--health-interval cannot be negative"},
		{[]string{"run", "--health-timeout", "-1s", "alpine"}, "--health-timeout cannot be negative"},
		{[]string{"run", "--health-start-period", "-1s", "alpine"}, "--health-start-period cannot be negative"},
		{[]string{"run", "--health-start-interval", "-1s", "alpine"}, "--health-start-interval cannot be negative"},
		{[]string{"run", "--health-retries", "-1", "alpine"}, "--health-retries cannot be negative"},
		{[]string{"run", "--health-interval", "often", "alpine"}, `invalid argument "often" for "--health-interval" flag: time: invalid duration "often"`},

		// Namespaces.
		{[]string{"run", "--pid", "private", "alpine"}, "--pid: invalid PID mode"},
		{[]string{"run", "--pid", "container:", "alpine"}, "--pid: invalid PID mode"},
		{[]string{"run", "--uts", "private", "alpine"}, "--uts: invalid UTS mode"},
		{[]string{"run", "--uts", "host", "-h", "web", "alpine"}, "conflicting options: hostname and the UTS mode"},
		{[]string{"run", "--ipc", "public", "alpine"}, "invalid IPC mode: public"},
		{[]string{"run", "--userns", "keep-id", "alpine"}, `--userns: invalid USER mode "keep-id": rrun runs containers in your rootless user namespace, which is --userns=host`},
		{[]string{"run", "--isolation", "hyperv", "alpine"}, `Invalid isolation: "hyperv" - linux only supports 'default'`},

		// Restart policy.
		{[]string{"run", "--restart", "sometimes", "alpine"}, "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"},
		{[]string{"run", "--restart", "always:3", "alpine"}, "invalid restart policy: maximum retry count can only be used with 'on-failure'"},
		{[]string{"run", "--restart", "no:-1", "alpine"}, "invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be negative"},
		{[]string{"run", "--restart", "on-failure:-1", "alpine"}, "invalid restart policy: maximum retry count cannot be negative"},
		{[]string{"run", "--restart", "on-failure:x", "alpine"}, "invalid restart policy format: maximum retry count must be an integer"},
		{[]string{"run", "--restart", ":3", "alpine"}, "invalid restart policy format: no policy provided before colon"},
		{[]string{"run", "--rm", "--restart", "always", "alpine"}, "conflicting options: cannot specify both --restart and --rm"},
		{[]string{"create", "--restart", "on-failure:2", "--rm", "alpine"}, "conflicting options: cannot specify both --restart and --rm"},

		// Logging.
		{[]string{"run", "--log-driver", "syslog", "alpine"}, `logging driver "syslog" is not supported by rrun: use json-file or none`},
		{[]string{"run", "--log-driver", "none", "--log-opt", "max-size=1m", "alpine"}, "invalid logging opts for driver none"},
		{[]string{"run", "--log-opt", "tag=web", "alpine"}, "unknown log opt 'tag' for json-file log driver: rrun supports max-size and max-file"},
		{[]string{"run", "--log-opt", "max-size=big", "alpine"}, "invalid size: 'big'"},
		{[]string{"run", "--log-opt", "max-size=0", "alpine"}, "max-size must be a positive number"},
		{[]string{"run", "--log-opt", "max-file=0", "alpine"}, "max-file cannot be less than 1"},
		{[]string{"run", "--log-opt", "max-file=x", "alpine"}, `strconv.Atoi: parsing "x": invalid syntax`},

		// Security.
		{[]string{"run", "--security-opt", "label", "alpine"}, `invalid --security-opt: "label"`},
		{[]string{"run", "--security-opt", "apparmor=", "alpine"}, `invalid --security-opt: "apparmor="`},
		{[]string{"run", "--security-opt", "seccomp=/nonexistent/profile.json", "alpine"}, "opening seccomp profile (/nonexistent/profile.json) failed: open /nonexistent/profile.json: no such file or directory"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := parseArgs(t, tc.args...)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n  %q\nwant\n  %q", err, tc.want)
			}
		})
	}
}

// Parse errors of rrun's making are usage errors: exit status 125.
func TestCreateOptionsErrorIsUsage(t *testing.T) {
	_, err := parseArgs(t, "run", "--restart", "sometimes", "alpine")
	ec, ok := err.(*exitCodeError)
	if !ok || ec.code != exitUsage {
		t.Fatalf("got %#v, want an exitCodeError with status %d", err, exitUsage)
	}
}

func TestCreateOptionsFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	spaces := write("spaces.env", "# comment\nA=1\nMY VAR=2\n")
	noName := write("noname.env", "\n=2\n")
	badUTF8 := write("bad.env", "A=1\nB=\xff\n")
	badLabel := write("labels", "a=1\nb c=2\n")
	badJSON := write("seccomp.json", "{nope")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--env-file", spaces}, "--env-file: invalid env file (" + spaces + "): line 3: variable 'MY VAR' contains whitespaces"},
		{[]string{"--env-file", noName}, "--env-file: invalid env file (" + noName + "): line 2: no variable name on line '=2'"},
		{[]string{"--env-file", badUTF8}, "--env-file: invalid env file (" + badUTF8 + "): line 2: invalid utf8 bytes"},
		{[]string{"--label-file", badLabel}, "--label-file: invalid label file (" + badLabel + "): line 2: variable 'b c' contains whitespaces"},
		{[]string{"--security-opt", "seccomp=" + badJSON}, "compacting json for seccomp profile (" + badJSON + ") failed: invalid character 'n' looking for beginning of object key string"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := parseArgs(t, append(append([]string{"run"}, tc.args...), "alpine")...)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error\n  %v\nwant\n  %s", err, tc.want)
			}
		})
	}
}

// What each flag sets, in the configuration docker's CLI would send.
func TestCreateOptionsMapping(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	five, zero := 5, 0
	yes, no := true, false
	pids := int64(100)
	port := network.MustParsePort
	localhost := netip.MustParseAddr("127.0.0.1")
	mac, _ := net.ParseMAC("92:d0:c6:0a:29:33")

	for _, tc := range []struct {
		name string
		args []string
		get  func(*createOptions) any
		want any
	}{
		// The command line.
		{"image and command", []string{"run", "alpine", "sh", "-c", "ls -l"},
			func(o *createOptions) any { return []any{o.Config.Image, o.Config.Cmd} },
			[]any{"alpine", []string{"sh", "-c", "ls -l"}}},
		{"image only", []string{"run", "alpine"},
			func(o *createOptions) any { return o.Config.Cmd }, []string(nil)},
		{"flags after the image are the command's", []string{"run", "-e", "A=1", "alpine", "-e", "B=2", "--rm"},
			func(o *createOptions) any { return []any{o.Config.Env, o.Config.Cmd, o.HostConfig.AutoRemove} },
			[]any{[]string{"A=1"}, []string{"-e", "B=2", "--rm"}, false}},
		{"-- before the image", []string{"run", "--rm", "--", "alpine", "ls"},
			func(o *createOptions) any { return []any{o.Config.Image, o.Config.Cmd, o.HostConfig.AutoRemove} },
			[]any{"alpine", []string{"ls"}, true}},
		{"-- after the image is the command's, as in docker", []string{"run", "alpine", "--", "ls"},
			func(o *createOptions) any { return o.Config.Cmd }, []string{"--", "ls"}},

		// The command's own options.
		{"name, platform, pull, cidfile, quiet", []string{"create", "--name", "web", "--platform", "linux/arm64", "--pull", "always", "--cidfile", "/tmp/id", "-q", "alpine"},
			func(o *createOptions) any {
				return []any{o.Name, o.Platform, o.Pull, o.CIDFile, o.HostConfig.ContainerIDFile, o.Quiet}
			},
			[]any{"web", "linux/arm64", "always", "/tmp/id", "/tmp/id", true}},
		{"pull default", []string{"create", "alpine"}, func(o *createOptions) any { return o.Pull }, "missing"},
		{"pull empty is missing", []string{"create", "--pull=", "alpine"}, func(o *createOptions) any { return o.Pull }, "missing"},
		{"run defaults", []string{"run", "alpine"},
			func(o *createOptions) any { return []any{o.Detach, o.SigProxy, o.DetachKeys} },
			[]any{false, true, ""}},
		{"create has no run options", []string{"create", "alpine"},
			func(o *createOptions) any { return []any{o.Detach, o.SigProxy, o.DetachKeys} },
			[]any{false, false, ""}},
		{"sig-proxy, detach-keys", []string{"run", "--sig-proxy=false", "--detach-keys", "ctrl-a,x", "alpine"},
			func(o *createOptions) any { return []any{o.SigProxy, o.DetachKeys} },
			[]any{false, "ctrl-a,x"}},

		// Streams, as docker's CLI sets them.
		{"no stream flags", []string{"run", "alpine"}, streamsOf, "stdout stderr"},
		{"create, no stream flags", []string{"create", "alpine"}, streamsOf, "stdout stderr"},
		{"-i -t", []string{"run", "-i", "-t", "alpine"}, streamsOf, "tty open-stdin stdin-once stdin stdout stderr"},
		{"-it", []string{"run", "-it", "alpine"}, streamsOf, "tty open-stdin stdin-once stdin stdout stderr"},
		{"-ti --interactive=false", []string{"run", "-ti", "--interactive=false", "alpine"}, streamsOf, "tty stdout stderr"},
		{"create -it", []string{"create", "-it", "alpine"}, streamsOf, "tty open-stdin stdin-once stdin stdout stderr"},
		{"-d", []string{"run", "-d", "alpine"}, streamsOf, ""},
		{"-dit", []string{"run", "-dit", "alpine"}, streamsOf, "tty open-stdin"},
		{"-a stdin", []string{"run", "-a", "stdin", "alpine"}, streamsOf, "stdin"},
		{"-a STDOUT -a stderr", []string{"run", "-a", "STDOUT", "--attach", "stderr", "alpine"}, streamsOf, "stdout stderr"},
		{"-i -a stdout", []string{"run", "-i", "-a", "stdout", "alpine"}, streamsOf, "open-stdin stdin-once stdin stdout"},
		{"-a kept", []string{"create", "-a", "STDERR", "alpine"}, func(o *createOptions) any { return o.Attach }, []string{"stderr"}},

		// Process.
		{"workdir, user, hostname, domainname", []string{"run", "-w", "/w", "-u", "1000:1000", "-h", "web", "--domainname", "example.com", "alpine"},
			func(o *createOptions) any {
				return []string{o.Config.WorkingDir, o.Config.User, o.Config.Hostname, o.Config.Domainname}
			},
			[]string{"/w", "1000:1000", "web", "example.com"}},
		{"long forms", []string{"run", "--workdir", "/w", "--user", "nobody", "--hostname", "web", "alpine"},
			func(o *createOptions) any { return []string{o.Config.WorkingDir, o.Config.User, o.Config.Hostname} },
			[]string{"/w", "nobody", "web"}},
		{"the last value wins, any spelling", []string{"run", "-w", "/a", "--workdir", "/b", "alpine"},
			func(o *createOptions) any { return o.Config.WorkingDir }, "/b"},
		{"-h 1 is a hostname, not help", []string{"run", "-h", "1", "alpine"},
			func(o *createOptions) any { return o.Config.Hostname }, "1"},
		{"-h true is a hostname too", []string{"run", "-h", "true", "alpine"},
			func(o *createOptions) any { return o.Config.Hostname }, "true"},
		{"entrypoint", []string{"run", "--entrypoint", "sh -c", "alpine"},
			func(o *createOptions) any { return o.Config.Entrypoint }, []string{"sh -c"}},
		{"empty entrypoint clears the image's", []string{"run", "--entrypoint", "", "alpine"},
			func(o *createOptions) any { return o.Config.Entrypoint }, []string{""}},
		{"empty entrypoint, = form", []string{"run", "--entrypoint=", "alpine"},
			func(o *createOptions) any { return o.Config.Entrypoint }, []string{""}},
		{"no entrypoint", []string{"run", "alpine"},
			func(o *createOptions) any { return o.Config.Entrypoint }, []string(nil)},
		{"stop signal and timeout", []string{"run", "--stop-signal", "SIGINT", "--stop-timeout", "5", "alpine"},
			func(o *createOptions) any { return []any{o.Config.StopSignal, o.Config.StopTimeout} },
			[]any{"SIGINT", &five}},
		{"stop timeout 0 is set", []string{"run", "--stop-timeout", "0", "alpine"},
			func(o *createOptions) any { return o.Config.StopTimeout }, &zero},
		{"no stop timeout", []string{"run", "alpine"},
			func(o *createOptions) any { return o.Config.StopTimeout }, (*int)(nil)},
		{"init", []string{"run", "--init", "alpine"}, func(o *createOptions) any { return o.HostConfig.Init }, &yes},
		{"init=false", []string{"run", "--init=false", "alpine"}, func(o *createOptions) any { return o.HostConfig.Init }, &no},
		{"no init", []string{"run", "alpine"}, func(o *createOptions) any { return o.HostConfig.Init }, (*bool)(nil)},
		{"rm, read-only, privileged, publish-all", []string{"run", "--rm", "--read-only", "--privileged", "-P", "alpine"},
			func(o *createOptions) any {
				hc := o.HostConfig
				return []bool{hc.AutoRemove, hc.ReadonlyRootfs, hc.Privileged, hc.PublishAllPorts}
			},
			[]bool{true, true, true, true}},

		// Environment and labels.
		{"env, in order, commas kept, all spellings", []string{"run", "-e", "FROM_RRUN", "-e", "UNSET_IN_RRUN", "--env", "C=c,d", "-e", "D=", "alpine"},
			func(o *createOptions) any { return o.Config.Env },
			[]string{"FROM_RRUN=rrun's", "UNSET_IN_RRUN", "C=c,d", "D="}},
		{"no env", []string{"run", "alpine"}, func(o *createOptions) any { return o.Config.Env }, []string(nil)},
		{"labels", []string{"run", "-l", "a=1", "--label", "b", "-l", "c=x,y", "-l", "a=2", "alpine"},
			func(o *createOptions) any { return o.Config.Labels },
			map[string]string{"a": "2", "b": "", "c": "x,y"}},
		{"no labels: an empty map, as docker sends", []string{"run", "alpine"},
			func(o *createOptions) any { return o.Config.Labels }, map[string]string{}},

		// Storage.
		{"volumes", []string{"run", "-v", "/a:/b:ro", "-v", "data:/data", "--volume", "/anon", "-v", "./rel:/rel:z", "-v", "/a:/b:ro", "alpine"},
			func(o *createOptions) any { return []any{o.HostConfig.Binds, o.Config.Volumes} },
			[]any{[]string{"/a:/b:ro", "data:/data", filepath.Join(cwd, "rel") + ":/rel:z"}, map[string]struct{}{"/anon": {}}}},
		{"no volumes", []string{"run", "alpine"},
			func(o *createOptions) any { return []any{o.HostConfig.Binds, o.Config.Volumes} },
			[]any{[]string(nil), map[string]struct{}(nil)}},
		{"bind mount, quoted field with a comma", []string{"run", "--mount", `type=bind,"source=/a,b",target=/c,readonly`, "alpine"},
			func(o *createOptions) any { return o.HostConfig.Mounts },
			[]mount.Mount{{Type: mount.TypeBind, Source: "/a,b", Target: "/c", ReadOnly: true}}},
		{"bind mount options", []string{"run", "--mount", "type=bind,src=/a,dst=/b,bind-propagation=rshared,consistency=cached,ro=false,bind-recursive=disabled,bind-create-src", "alpine"},
			func(o *createOptions) any { return o.HostConfig.Mounts },
			[]mount.Mount{{Type: mount.TypeBind, Source: "/a", Target: "/b", Consistency: mount.ConsistencyCached,
				BindOptions: &mount.BindOptions{Propagation: mount.PropagationRShared, NonRecursive: true, CreateMountpoint: true}}}},
		{"relative bind source", []string{"run", "--mount", "type=bind,src=./x,destination=/x", "alpine"},
			func(o *createOptions) any { return o.HostConfig.Mounts[0].Source }, filepath.Join(cwd, "x")},
		{"volume mount, the default type", []string{"run", "--mount", "src=data,dst=/d,volume-nocopy,volume-opt=o=1,volume-label=l=2,volume-driver=local,volume-subpath=sub", "alpine"},
			func(o *createOptions) any { return o.HostConfig.Mounts },
			[]mount.Mount{{Type: mount.TypeVolume, Source: "data", Target: "/d", VolumeOptions: &mount.VolumeOptions{
				NoCopy: true, Labels: map[string]string{"l": "2"}, Subpath: "sub",
				DriverConfig: &mount.Driver{Name: "local", Options: map[string]string{"o": "1"}}}}}},
		{"tmpfs mount", []string{"run", "--mount", "TYPE=TMPFS,dst=/t,tmpfs-size=64m,tmpfs-mode=1770", "alpine"},
			func(o *createOptions) any { return o.HostConfig.Mounts },
			[]mount.Mount{{Type: mount.TypeTmpfs, Target: "/t", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 64 << 20, Mode: 0o1770}}}},
		{"several mounts", []string{"run", "--mount", "type=tmpfs,dst=/a", "--mount", "type=tmpfs,dst=/b", "alpine"},
			func(o *createOptions) any { return len(o.HostConfig.Mounts) }, 2},
		{"tmpfs", []string{"run", "--tmpfs", "/run:rw,size=64m", "--tmpfs", "/tmp", "alpine"},
			func(o *createOptions) any { return o.HostConfig.Tmpfs },
			map[string]string{"/run": "rw,size=64m", "/tmp": ""}},

		// Ports.
		{"publish", []string{"run", "-p", "8080:80", "-p", "127.0.0.1:5353:53/udp", "-p", "9000", "-p", "127.0.0.1::7000", "alpine"},
			portsOf,
			[]any{
				network.PortMap{
					port("80/tcp"):   {{HostPort: "8080"}},
					port("53/udp"):   {{HostIP: localhost, HostPort: "5353"}},
					port("9000/tcp"): {{}},
					port("7000/tcp"): {{HostIP: localhost}},
				},
				network.PortSet{port("80/tcp"): {}, port("53/udp"): {}, port("9000/tcp"): {}, port("7000/tcp"): {}},
			}},
		{"publish ranges", []string{"run", "-p", "8000-8001:80-81", "-p", "9000-9010:90/SCTP", "alpine"},
			portsOf,
			[]any{
				network.PortMap{
					port("80/tcp"):  {{HostPort: "8000"}},
					port("81/tcp"):  {{HostPort: "8001"}},
					port("90/sctp"): {{HostPort: "9000-9010"}},
				},
				network.PortSet{port("80/tcp"): {}, port("81/tcp"): {}, port("90/sctp"): {}},
			}},
		{"publish IPv6", []string{"run", "-p", "[::1]:8080:80", "-p", "::2:8081:81", "alpine"},
			portsOf,
			[]any{
				network.PortMap{
					port("80/tcp"): {{HostIP: netip.MustParseAddr("::1"), HostPort: "8080"}},
					port("81/tcp"): {{HostIP: netip.MustParseAddr("::2"), HostPort: "8081"}},
				},
				network.PortSet{port("80/tcp"): {}, port("81/tcp"): {}},
			}},
		{"publish one port twice", []string{"run", "-p", "8080:80", "-p", "127.0.0.1:8081:80", "alpine"},
			portsOf,
			[]any{
				network.PortMap{port("80/tcp"): {{HostPort: "8080"}, {HostIP: localhost, HostPort: "8081"}}},
				network.PortSet{port("80/tcp"): {}},
			}},
		{"publish, long syntax", []string{"run", "-p", "published=8080,target=80,protocol=udp", "alpine"},
			portsOf,
			[]any{network.PortMap{port("80/udp"): {{HostPort: "8080"}}}, network.PortSet{port("80/udp"): {}}}},
		{"expose", []string{"run", "--expose", "90-91/udp", "--expose", "100", "alpine"},
			portsOf,
			[]any{network.PortMap{}, network.PortSet{port("90/udp"): {}, port("91/udp"): {}, port("100/tcp"): {}}}},
		{"no ports", []string{"run", "alpine"}, portsOf, []any{network.PortMap{}, network.PortSet(nil)}},

		// Network.
		{"default network", []string{"run", "alpine"},
			func(o *createOptions) any { return []any{o.HostConfig.NetworkMode, o.Network.EndpointsConfig} },
			[]any{container.NetworkMode("default"), map[string]*network.EndpointSettings{"default": {}}}},
		{"host network", []string{"run", "--network", "host", "alpine"},
			func(o *createOptions) any { return []any{o.HostConfig.NetworkMode, o.Network.EndpointsConfig} },
			[]any{container.NetworkMode("host"), map[string]*network.EndpointSettings{}}},
		{"--net", []string{"run", "--net=none", "alpine"},
			func(o *createOptions) any { return o.HostConfig.NetworkMode }, container.NetworkMode("none")},
		{"container network", []string{"run", "--network", "container:web", "alpine"},
			func(o *createOptions) any { return o.HostConfig.NetworkMode.ConnectedContainer() }, "web"},
		{"endpoint settings", []string{"run", "--network", "mynet", "--network-alias", "a", "--net-alias", "b", "--ip", "10.0.0.2", "--ip6", "fd00::2", "--mac-address", "92:d0:c6:0a:29:33", "alpine"},
			func(o *createOptions) any { return o.Network.EndpointsConfig },
			map[string]*network.EndpointSettings{"mynet": {
				Aliases: []string{"a", "b"},
				IPAMConfig: &network.EndpointIPAMConfig{
					IPv4Address: netip.MustParseAddr("10.0.0.2"),
					IPv6Address: netip.MustParseAddr("fd00::2"),
				},
				MacAddress: network.HardwareAddr(mac),
			}}},
		{"endpoint settings on the default network", []string{"run", "--ip", "10.0.0.2", "alpine"},
			func(o *createOptions) any { return o.Network.EndpointsConfig["default"].IPAMConfig.IPv4Address },
			netip.MustParseAddr("10.0.0.2")},
		{"dns", []string{"run", "--dns", "8.8.8.8", "--dns", "::ffff:1.1.1.1", "--dns-search", "example.com.", "--dns-search", ".", "--dns-option", "ndots:2", "--dns-opt", "timeout:1", "alpine"},
			func(o *createOptions) any {
				return []any{o.HostConfig.DNS, o.HostConfig.DNSSearch, o.HostConfig.DNSOptions}
			},
			[]any{[]netip.Addr{netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("1.1.1.1")}, []string{"example.com", "."}, []string{"ndots:2", "timeout:1"}}},
		{"no dns: empty lists, as docker sends", []string{"run", "alpine"},
			func(o *createOptions) any {
				return []any{o.HostConfig.DNS, o.HostConfig.DNSSearch, o.HostConfig.DNSOptions}
			},
			[]any{[]netip.Addr{}, []string{}, []string{}}},
		{"add-host", []string{"run", "--add-host", "a:1.2.3.4", "--add-host", "b=::1", "--add-host", "c=[::2]", "--add-host", "gw:host-gateway", "alpine"},
			func(o *createOptions) any { return o.HostConfig.ExtraHosts },
			[]string{"a:1.2.3.4", "b:::1", "c:::2", "gw:host-gateway"}},

		// Security.
		{"capabilities, groups", []string{"run", "--cap-add", "NET_ADMIN", "--cap-add", "SYS_TIME", "--cap-drop", "ALL", "--group-add", "audio", "alpine"},
			func(o *createOptions) any {
				return [][]string{o.HostConfig.CapAdd, o.HostConfig.CapDrop, o.HostConfig.GroupAdd}
			},
			[][]string{{"NET_ADMIN", "SYS_TIME"}, {"ALL"}, {"audio"}}},
		{"security options", []string{"run", "--security-opt", "label=disable", "--security-opt", "no-new-privileges", "--security-opt", "apparmor:unconfined", "--security-opt", "seccomp=unconfined", "alpine"},
			func(o *createOptions) any { return o.HostConfig.SecurityOpt },
			[]string{"label=disable", "no-new-privileges", "apparmor:unconfined", "seccomp=unconfined"}},
		{"systempaths=unconfined", []string{"run", "--security-opt", "systempaths=unconfined", "alpine"},
			func(o *createOptions) any {
				return []any{o.HostConfig.SecurityOpt, o.HostConfig.MaskedPaths, o.HostConfig.ReadonlyPaths}
			},
			[]any{[]string(nil), []string{}, []string{}}},
		{"default system paths", []string{"run", "alpine"},
			func(o *createOptions) any { return []any{o.HostConfig.MaskedPaths, o.HostConfig.ReadonlyPaths} },
			[]any{[]string(nil), []string(nil)}},

		// Restart policy.
		{"restart default", []string{"run", "alpine"},
			func(o *createOptions) any { return o.HostConfig.RestartPolicy }, container.RestartPolicy{Name: "no"}},
		{"restart on-failure:3", []string{"run", "--restart", "on-failure:3", "alpine"},
			func(o *createOptions) any { return o.HostConfig.RestartPolicy }, container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3}},
		{"restart unless-stopped", []string{"run", "--restart", "unless-stopped", "alpine"},
			func(o *createOptions) any { return o.HostConfig.RestartPolicy }, container.RestartPolicy{Name: "unless-stopped"}},
		{"restart no with --rm", []string{"run", "--restart", "no", "--rm", "alpine"},
			func(o *createOptions) any { return o.HostConfig.AutoRemove }, true},

		// Resources.
		{"limits", []string{"run", "-m", "512m", "--memory-swap", "1g", "--cpus", "1.5", "-c", "512", "--cpuset-cpus", "0-1", "--pids-limit", "100", "--oom-score-adj", "-500", "--shm-size", "64m", "alpine"},
			func(o *createOptions) any {
				r := o.HostConfig.Resources
				return []any{r.Memory, r.MemorySwap, r.NanoCPUs, r.CPUShares, r.CpusetCpus, r.PidsLimit, o.HostConfig.OomScoreAdj, o.HostConfig.ShmSize}
			},
			[]any{int64(512 << 20), int64(1 << 30), int64(1.5e9), int64(512), "0-1", &pids, -500, int64(64 << 20)}},
		{"unlimited swap", []string{"run", "--memory-swap", "-1", "alpine"},
			func(o *createOptions) any { return o.HostConfig.MemorySwap }, int64(-1)},
		{"no pids limit", []string{"run", "alpine"},
			func(o *createOptions) any { return o.HostConfig.PidsLimit }, (*int64)(nil)},
		{"ulimits, the last for a resource wins", []string{"run", "--ulimit", "nofile=1024:2048", "--ulimit", "nproc=10", "--ulimit", "nofile=5", "alpine"},
			func(o *createOptions) any { return o.HostConfig.Ulimits },
			[]*units.Ulimit{{Name: "nofile", Soft: 5, Hard: 5}, {Name: "nproc", Soft: 10, Hard: 10}}},
		{"devices", []string{"run", "--device", "/dev/fuse", "--device", "/dev/a:/dev/b", "--device", "/dev/c:r", "--device", "/dev/d:/dev/e:rw", "alpine"},
			func(o *createOptions) any { return o.HostConfig.Devices },
			[]container.DeviceMapping{
				{PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm"},
				{PathOnHost: "/dev/a", PathInContainer: "/dev/b", CgroupPermissions: "rwm"},
				{PathOnHost: "/dev/c", PathInContainer: "/dev/c", CgroupPermissions: "r"},
				{PathOnHost: "/dev/d", PathInContainer: "/dev/e", CgroupPermissions: "rw"},
			}},
		{"sysctls", []string{"run", "--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.shmmax=1", "--sysctl", "fs.mqueue.msg_max=20", "alpine"},
			func(o *createOptions) any { return o.HostConfig.Sysctls },
			map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "1", "fs.mqueue.msg_max": "20"}},

		// Healthcheck.
		{"healthcheck", []string{"run", "--health-cmd", "curl -f localhost", "--health-interval", "5s", "--health-retries", "3", "--health-timeout", "2s", "--health-start-period", "1s", "--health-start-interval", "500ms", "alpine"},
			func(o *createOptions) any { return o.Config.Healthcheck },
			&container.HealthConfig{Test: []string{"CMD-SHELL", "curl -f localhost"}, Interval: 5 * time.Second, Retries: 3,
				Timeout: 2 * time.Second, StartPeriod: time.Second, StartInterval: 500 * time.Millisecond}},
		{"health timings keep the image's test", []string{"run", "--health-interval", "10s", "alpine"},
			func(o *createOptions) any { return o.Config.Healthcheck },
			&container.HealthConfig{Interval: 10 * time.Second}},
		{"no healthcheck", []string{"run", "--no-healthcheck", "alpine"},
			func(o *createOptions) any { return o.Config.Healthcheck },
			&container.HealthConfig{Test: []string{"NONE"}}},
		{"image's healthcheck", []string{"run", "alpine"},
			func(o *createOptions) any { return o.Config.Healthcheck }, (*container.HealthConfig)(nil)},

		// Logging.
		{"json-file log options", []string{"run", "--log-driver", "json-file", "--log-opt", "max-size=10m", "--log-opt", "max-file=3", "alpine"},
			func(o *createOptions) any { return o.HostConfig.LogConfig },
			container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "10m", "max-file": "3"}}},
		{"no logs", []string{"run", "--log-driver", "none", "alpine"},
			func(o *createOptions) any { return o.HostConfig.LogConfig },
			container.LogConfig{Type: "none", Config: map[string]string{}}},
		{"default log driver", []string{"run", "alpine"},
			func(o *createOptions) any { return o.HostConfig.LogConfig },
			container.LogConfig{Config: map[string]string{}}},

		// Namespaces.
		{"host namespaces", []string{"run", "--pid", "host", "--ipc", "host", "--uts", "host", "--userns", "host", "--isolation", "default", "alpine"},
			func(o *createOptions) any {
				hc := o.HostConfig
				return []string{string(hc.PidMode), string(hc.IpcMode), string(hc.UTSMode), string(hc.UsernsMode), string(hc.Isolation)}
			},
			[]string{"host", "host", "host", "host", "default"}},
		{"shared namespaces", []string{"run", "--pid", "container:db", "--ipc", "container:db", "alpine"},
			func(o *createOptions) any {
				return []string{string(o.HostConfig.PidMode), string(o.HostConfig.IpcMode)}
			},
			[]string{"container:db", "container:db"}},
		{"ipc modes", []string{"run", "--ipc", "shareable", "alpine"},
			func(o *createOptions) any { return o.HostConfig.IpcMode }, container.IpcMode("shareable")},
		{"hostname with the host network", []string{"run", "--network", "host", "-h", "web", "alpine"},
			func(o *createOptions) any { return o.Config.Hostname }, "web"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("FROM_RRUN", "rrun's")
			t.Setenv("UNSET_IN_RRUN", "")
			os.Unsetenv("UNSET_IN_RRUN")
			o, err := parseArgs(t, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.get(o); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%v:\n got %#v\nwant %#v", tc.args, got, tc.want)
			}
		})
	}
}

// streamsOf lists the stream fields that are set.
func streamsOf(o *createOptions) any {
	c := o.Config
	var set []string
	for _, f := range []struct {
		on   bool
		name string
	}{
		{c.Tty, "tty"}, {c.OpenStdin, "open-stdin"}, {c.StdinOnce, "stdin-once"},
		{c.AttachStdin, "stdin"}, {c.AttachStdout, "stdout"}, {c.AttachStderr, "stderr"},
	} {
		if f.on {
			set = append(set, f.name)
		}
	}
	return strings.Join(set, " ")
}

func portsOf(o *createOptions) any {
	return []any{o.HostConfig.PortBindings, o.Config.ExposedPorts}
}

// The env and label files: comments, blank lines, a BOM, values as
// written, bare keys from rrun's environment; files first, flags after.
func TestCreateOptionsFiles(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, "app.env")
	env := "\xEF\xBB\xBF# settings\n\nA=1\n  B=\"quoted\" \nFROM_RRUN\nUNSET_IN_RRUN\nEMPTY=\nURL=http://x/?a=b\n"
	if err := os.WriteFile(envFile, []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	labelFile := filepath.Join(dir, "labels")
	if err := os.WriteFile(labelFile, []byte("# labels\nteam=web\nbare\ntier=front\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FROM_RRUN", "rrun's")
	t.Setenv("UNSET_IN_RRUN", "")
	os.Unsetenv("UNSET_IN_RRUN")

	o, err := parseArgs(t, "run", "-e", "A=override", "--env-file", envFile, "--label-file", labelFile, "-l", "tier=back", "alpine")
	if err != nil {
		t.Fatal(err)
	}
	wantEnv := []string{"A=1", `B="quoted" `, "FROM_RRUN=rrun's", "EMPTY=", "URL=http://x/?a=b", "A=override"}
	if !reflect.DeepEqual(o.Config.Env, wantEnv) {
		t.Errorf("env\n got %q\nwant %q", o.Config.Env, wantEnv)
	}
	wantLabels := map[string]string{"team": "web", "tier": "back"}
	if !reflect.DeepEqual(o.Config.Labels, wantLabels) {
		t.Errorf("labels: got %v, want %v", o.Config.Labels, wantLabels)
	}
}

// A seccomp profile is sent as its compacted JSON, as docker sends it.
func TestCreateOptionsSeccompProfile(t *testing.T) {
	profile := filepath.Join(t.TempDir(), "profile.json")
	if err := os.WriteFile(profile, []byte("{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\"\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := parseArgs(t, "run", "--security-opt", "seccomp="+profile, "alpine")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{`seccomp={"defaultAction":"SCMP_ACT_ALLOW"}`}; !reflect.DeepEqual(o.HostConfig.SecurityOpt, want) {
		t.Errorf("got %q, want %q", o.HostConfig.SecurityOpt, want)
	}
}

// --platform defaults to $DOCKER_DEFAULT_PLATFORM, as in docker.
func TestCreateOptionsDefaultPlatform(t *testing.T) {
	t.Setenv("DOCKER_DEFAULT_PLATFORM", "linux/arm64")
	o, err := parseArgs(t, "create", "alpine")
	if err != nil {
		t.Fatal(err)
	}
	if o.Platform != "linux/arm64" {
		t.Errorf("platform %q, want linux/arm64", o.Platform)
	}
}

// --help prints the command's help, with both spellings of each flag.
func TestCreateOptionsHelp(t *testing.T) {
	o, out, err := parseArgsOutput(t, "run", "--help")
	if err != nil {
		t.Fatal(err)
	}
	if o != nil {
		t.Errorf("--help ran the action")
	}
	for _, want := range []string{
		"--env KEY=VALUE, -e KEY=VALUE",
		"--hostname NAME, -h NAME",
		"--interactive, -i",
		"--restart POLICY",
		`(default: "no")`,
		"--sig-proxy",
		"(default: true)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
	for _, hidden := range []string{"--net ", "--dns-opt ", "--net-alias"} {
		if strings.Contains(out, hidden) {
			t.Errorf("help shows the hidden %q", hidden)
		}
	}
}

// One app, parsed twice, starts each parse afresh (a flag's values live in
// the parse, not in the flag).
func TestCreateOptionsFreshValues(t *testing.T) {
	var got [][]string
	app := &cli.App{Name: "rrun", Writer: &bytes.Buffer{}, Commands: []*cli.Command{{
		Name: "run", HideHelp: true, Flags: containerFlags(true),
		Action: func(c *cli.Context) error {
			o, err := parseCreateOptions(c, true)
			if err == nil {
				got = append(got, o.Config.Env)
			}
			return err
		},
	}}}
	for range 2 {
		if err := app.Run([]string{"rrun", "run", "-e", "A=1", "alpine"}); err != nil {
			t.Fatal(err)
		}
	}
	if want := [][]string{{"A=1"}, {"A=1"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
