package oci

import (
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseSecurityOpts(t *testing.T) {
	tests := []struct {
		opts    []string
		want    SecurityOpts
		wantErr string
	}{
		{opts: []string{"foo"}, wantErr: `invalid --security-opt: "foo"`},
		{opts: []string{"foo=bar"}, wantErr: `invalid --security-opt: "foo=bar"`},
		{opts: []string{"no-new-privileges=maybe"}, wantErr: `invalid --security-opt: "no-new-privileges=maybe"`},
		{opts: []string{"seccomp="}, wantErr: `invalid --security-opt: "seccomp="`},
		{opts: []string{"systempaths=confined"}, wantErr: `invalid --security-opt: "systempaths=confined"`},
		{opts: nil, want: SecurityOpts{}},
		{opts: []string{"no-new-privileges"}, want: SecurityOpts{NoNewPrivileges: true}},
		{opts: []string{"no-new-privileges=true"}, want: SecurityOpts{NoNewPrivileges: true}},
		{opts: []string{"no-new-privileges", "no-new-privileges:false"}, want: SecurityOpts{}},
		{opts: []string{"label=disable", "label:user:USER", "disable", "label=type:svirt_apache_t"}, want: SecurityOpts{}},
		{opts: []string{"apparmor=unconfined", "apparmor:docker-default"}, want: SecurityOpts{}},
		{opts: []string{"seccomp=unconfined"}, want: SecurityOpts{Seccomp: "unconfined"}},
		{opts: []string{"seccomp:/etc/profile.json"}, want: SecurityOpts{Seccomp: "/etc/profile.json"}},
		{opts: []string{"systempaths=unconfined"}, want: SecurityOpts{UnconfinedPaths: true}},
	}
	for _, tt := range tests {
		got, err := ParseSecurityOpts(tt.opts)
		checkErr(t, err, tt.wantErr)
		if err == nil && got != tt.want {
			t.Errorf("%q: %+v, want %+v", tt.opts, got, tt.want)
		}
	}
}

func allowed(s *specs.LinuxSeccomp, syscall string) bool {
	for _, rule := range s.Syscalls {
		if rule.Action == specs.ActAllow && len(rule.Args) == 0 && slices.Contains(rule.Names, syscall) {
			return true
		}
	}
	return false
}

// securitySpec applies what WithSecurityOpts depends on, then it.
func securitySpec(t *testing.T, in SpecInput) (*specs.Spec, error) {
	t.Helper()
	return apply(in, WithCapabilities, WithSecurityOpts)
}

func TestSeccomp(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile.json")
	writeFile(t, profile, `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["chmod"], "action": "SCMP_ACT_ERRNO"}]}`)
	writeFile(t, filepath.Join(dir, "bad.json"), `{"defaultAction": `)

	tests := []struct {
		name       string
		opts       []string
		privileged bool
		wantNil    bool
		wantAction specs.LinuxSeccompAction
		wantErr    string
	}{
		{name: "missing file", opts: []string{"seccomp=" + filepath.Join(dir, "nope.json")}, wantErr: "opening seccomp profile"},
		{name: "bad file", opts: []string{"seccomp=" + filepath.Join(dir, "bad.json")}, wantErr: "Decoding seccomp profile failed"},
		{name: "bad inline JSON", opts: []string{`seccomp={"defaultAction": 5}`}, wantErr: "Decoding seccomp profile failed"},
		{name: "default", wantAction: specs.ActErrno},
		{name: "builtin", opts: []string{"seccomp=builtin"}, wantAction: specs.ActErrno},
		{name: "unconfined", opts: []string{"seccomp=unconfined"}, wantNil: true},
		{name: "privileged", privileged: true, wantNil: true},
		{name: "privileged beats a profile", privileged: true, opts: []string{"seccomp=" + profile}, wantNil: true},
		{name: "file", opts: []string{"seccomp=" + profile}, wantAction: specs.ActAllow},
		{name: "inline JSON, as the docker CLI sends it", opts: []string{`seccomp={"defaultAction": "SCMP_ACT_LOG"}`}, wantAction: specs.ActLog},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := testInput(t)
			in.HostConfig.SecurityOpt = tt.opts
			in.HostConfig.Privileged = tt.privileged
			s, err := securitySpec(t, in)
			checkErr(t, err, tt.wantErr)
			if err != nil {
				return
			}
			if got := s.Linux.Seccomp; tt.wantNil != (got == nil) || got != nil && got.DefaultAction != tt.wantAction {
				t.Fatalf("seccomp = %+v", got)
			}
		})
	}
}

// The default profile allows some system calls only to containers that
// hold the capability they need: capabilities come first.
func TestSeccompFollowsCapabilities(t *testing.T) {
	in := testInput(t)
	s, err := securitySpec(t, in)
	if err != nil {
		t.Fatal(err)
	}
	if allowed(s.Linux.Seccomp, "mount") || allowed(s.Linux.Seccomp, "ptrace") == false {
		t.Fatalf("default caps: mount allowed %v, ptrace allowed %v", allowed(s.Linux.Seccomp, "mount"), allowed(s.Linux.Seccomp, "ptrace"))
	}
	in.HostConfig.CapAdd = []string{"SYS_ADMIN"}
	s, err = securitySpec(t, in)
	if err != nil {
		t.Fatal(err)
	}
	if !allowed(s.Linux.Seccomp, "mount") {
		t.Fatal("CAP_SYS_ADMIN: mount not allowed")
	}
}

func TestMaskedPaths(t *testing.T) {
	tests := []struct {
		name                     string
		privileged               bool
		opts                     []string
		masked, readonly         []string
		wantMasked, wantReadonly []string
	}{
		{name: "defaults", wantMasked: DefaultMaskedPaths(), wantReadonly: DefaultReadonlyPaths()},
		{name: "privileged", privileged: true},
		{name: "systempaths=unconfined", opts: []string{"systempaths=unconfined"}},
		{name: "given", masked: []string{"/proc/x"}, readonly: []string{}, wantMasked: []string{"/proc/x"}, wantReadonly: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := testInput(t)
			in.HostConfig.Privileged = tt.privileged
			in.HostConfig.SecurityOpt = tt.opts
			in.HostConfig.MaskedPaths, in.HostConfig.ReadonlyPaths = tt.masked, tt.readonly
			s, err := securitySpec(t, in)
			if err != nil {
				t.Fatal(err)
			}
			masked := slices.DeleteFunc(slices.Clone(s.Linux.MaskedPaths), func(p string) bool { return filepath.Base(p) == "thermal_throttle" })
			if len(masked) != len(tt.wantMasked) || !hasAll(masked, tt.wantMasked...) {
				t.Fatalf("masked %q, want %q", s.Linux.MaskedPaths, tt.wantMasked)
			}
			if !reflect.DeepEqual(s.Linux.ReadonlyPaths, tt.wantReadonly) {
				t.Fatalf("read-only %q, want %q", s.Linux.ReadonlyPaths, tt.wantReadonly)
			}
		})
	}
}

func TestDefaultMaskedPathsAreDockers(t *testing.T) {
	want := []string{"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"}
	if !reflect.DeepEqual(DefaultMaskedPaths(), want) {
		t.Fatalf("masked %q", DefaultMaskedPaths())
	}
	if want := []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}; !reflect.DeepEqual(DefaultReadonlyPaths(), want) {
		t.Fatalf("read-only %q", DefaultReadonlyPaths())
	}
}

func TestNoNewPrivileges(t *testing.T) {
	for _, tt := range []struct {
		opts []string
		want bool
	}{{nil, false}, {[]string{"no-new-privileges"}, true}, {[]string{"no-new-privileges=true"}, true}, {[]string{"no-new-privileges=false"}, false}} {
		in := testInput(t)
		in.HostConfig.SecurityOpt = tt.opts
		s, err := securitySpec(t, in)
		if err != nil {
			t.Fatal(err)
		}
		if s.Process.NoNewPrivileges != tt.want {
			t.Errorf("%q: no-new-privileges %v", tt.opts, s.Process.NoNewPrivileges)
		}
	}
}
