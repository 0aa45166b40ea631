package oci

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestProcessArgs(t *testing.T) {
	tests := []struct {
		name       string
		entrypoint []string
		cmd        []string
		want       []string
		wantErr    string
	}{
		{name: "neither", wantErr: "no command specified"},
		{name: "empty entrypoint and cmd", entrypoint: []string{}, cmd: []string{}, wantErr: "no command specified"},
		{name: "cmd only", cmd: []string{"sh", "-c", "true"}, want: []string{"sh", "-c", "true"}},
		{name: "entrypoint only", entrypoint: []string{"/entry"}, want: []string{"/entry"}},
		{name: "entrypoint and cmd", entrypoint: []string{"/entry", "-v"}, cmd: []string{"run"}, want: []string{"/entry", "-v", "run"}},
		{name: "entrypoint cleared", entrypoint: []string{}, cmd: []string{"ls"}, want: []string{"ls"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ProcessArgs(tt.entrypoint, tt.cmd)
			checkErr(t, err, tt.wantErr)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("args = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEnv(t *testing.T) {
	tests := []struct {
		name   string
		config []string
		tty    bool
		want   []string
	}{
		{name: "defaults", want: []string{"PATH=" + DefaultPathEnv, "HOSTNAME=h"}},
		{name: "tty", tty: true, want: []string{"PATH=" + DefaultPathEnv, "HOSTNAME=h", "TERM=xterm"}},
		{
			name:   "image PATH and TERM win, others appended in order",
			config: []string{"PATH=/bin", "B=2", "TERM=vt100", "A=1"},
			tty:    true,
			want:   []string{"PATH=/bin", "HOSTNAME=h", "TERM=vt100", "B=2", "A=1"},
		},
		{name: "later value wins", config: []string{"A=1", "A=2"}, want: []string{"PATH=" + DefaultPathEnv, "HOSTNAME=h", "A=2"}},
		{name: "no = unsets", config: []string{"A=1", "A", "HOSTNAME"}, want: []string{"PATH=" + DefaultPathEnv}},
		{name: "empty value kept", config: []string{"A="}, want: []string{"PATH=" + DefaultPathEnv, "HOSTNAME=h", "A="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Env(tt.config, "h", tt.tty); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("env = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWithEnvHostname(t *testing.T) {
	in := testInput(t)
	in.Config.Env = []string{"FOO=bar"}
	s := build(t, in)
	want := []string{"PATH=" + DefaultPathEnv, "HOSTNAME=0123456789ab", "FOO=bar"}
	if !reflect.DeepEqual(s.Process.Env, want) {
		t.Fatalf("env = %q, want %q", s.Process.Env, want)
	}
}

func TestWithCwd(t *testing.T) {
	tests := []struct {
		dir, want, wantErr string
	}{
		{dir: "relative", wantErr: "needs to be an absolute path"},
		{dir: "", want: "/"},
		{dir: "/srv/app/", want: "/srv/app"},
	}
	for _, tt := range tests {
		in := testInput(t)
		in.Config.WorkingDir = tt.dir
		s, err := apply(in, WithCwd)
		checkErr(t, err, tt.wantErr)
		if err == nil && s.Process.Cwd != tt.want {
			t.Errorf("cwd for %q = %q, want %q", tt.dir, s.Process.Cwd, tt.want)
		}
	}
}

func TestWithTerminal(t *testing.T) {
	in := testInput(t)
	in.Config.Tty = true
	in.HostConfig.ConsoleSize = [2]uint{24, 80}
	s, err := apply(in, WithTerminal)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Process.Terminal || s.Process.ConsoleSize == nil || *s.Process.ConsoleSize != (specs.Box{Height: 24, Width: 80}) {
		t.Fatalf("terminal %v, size %+v", s.Process.Terminal, s.Process.ConsoleSize)
	}

	in.Config.Tty = false
	s, _ = apply(in, WithTerminal)
	if s.Process.Terminal || s.Process.ConsoleSize != nil {
		t.Fatalf("no tty: terminal %v, size %+v", s.Process.Terminal, s.Process.ConsoleSize)
	}
}

func TestWithInit(t *testing.T) {
	in := testInput(t)
	in.InitPath = "relative/init"
	_, err := BuildSpec(in)
	checkErr(t, err, "not absolute")

	in = testInput(t)
	in.Config.Entrypoint = []string{"/entry"}
	in.Config.Cmd = []string{"arg"}
	in.InitPath = "/usr/libexec/rrun/init"
	s := build(t, in)
	if want := []string{"/sbin/rrun-init", "--", "/entry", "arg"}; !reflect.DeepEqual(s.Process.Args, want) {
		t.Fatalf("args = %q, want %q", s.Process.Args, want)
	}
	m := mustMount(t, s, "/sbin/rrun-init")
	if m.Source != in.InitPath || m.Type != "bind" || !hasAll(m.Options, "bind", "ro") {
		t.Fatalf("init mount = %+v", m)
	}

	in.InitPath = ""
	s = build(t, in)
	if _, ok := findMount(s, "/sbin/rrun-init"); ok || s.Process.Args[0] != "/entry" {
		t.Fatalf("no init: args %q, mounts %v", s.Process.Args, destinations(s))
	}
}
