package oci

import (
	"testing"

	"github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestNamespaces(t *testing.T) {
	tests := []struct {
		name        string
		netns       string
		cgroupsPath string
		hc          container.HostConfig
		want        []specs.LinuxNamespace
		wantErr     string
	}{
		{name: "pid host", hc: container.HostConfig{PidMode: "host"}, wantErr: "--pid=host is not supported"},
		{name: "ipc host", hc: container.HostConfig{IpcMode: "host"}, wantErr: "--ipc=host is not supported"},
		{name: "ipc other container", hc: container.HostConfig{IpcMode: "container:db"}, wantErr: "--ipc=container:db is not supported"},
		{name: "ipc bogus", hc: container.HostConfig{IpcMode: "bogus"}, wantErr: "invalid IPC mode: bogus"},
		{name: "uts bogus", hc: container.HostConfig{UTSMode: "bogus"}, wantErr: "invalid UTS mode: bogus"},
		{name: "host network", want: []specs.LinuxNamespace{{Type: "mount"}, {Type: "pid"}, {Type: "ipc"}, {Type: "uts"}}},
		{name: "no network", netns: NetNSNew, want: []specs.LinuxNamespace{{Type: "mount"}, {Type: "pid"}, {Type: "ipc"}, {Type: "uts"}, {Type: "network"}}},
		{name: "joined network", netns: "/proc/7/ns/net",
			want: []specs.LinuxNamespace{{Type: "mount"}, {Type: "pid"}, {Type: "ipc"}, {Type: "uts"}, {Type: "network", Path: "/proc/7/ns/net"}}},
		{name: "cgroup", cgroupsPath: "/rrun/x", hc: container.HostConfig{IpcMode: "shareable"},
			want: []specs.LinuxNamespace{{Type: "mount"}, {Type: "pid"}, {Type: "ipc"}, {Type: "uts"}, {Type: "cgroup"}}},
		{name: "cgroup, host cgroupns", cgroupsPath: "/rrun/x", hc: container.HostConfig{CgroupnsMode: "host"},
			want: []specs.LinuxNamespace{{Type: "mount"}, {Type: "pid"}, {Type: "ipc"}, {Type: "uts"}}},
		{name: "uts host", hc: container.HostConfig{UTSMode: "host", IpcMode: "none"},
			want: []specs.LinuxNamespace{{Type: "mount"}, {Type: "pid"}, {Type: "ipc"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := testInput(t)
			in.NetNSPath, in.CgroupsPath = tt.netns, tt.cgroupsPath
			hc := tt.hc
			in.HostConfig = &hc
			s, err := apply(in, WithNamespaces)
			checkErr(t, err, tt.wantErr)
			if err != nil {
				return
			}
			if len(s.Linux.Namespaces) != len(tt.want) {
				t.Fatalf("namespaces %+v, want %+v", s.Linux.Namespaces, tt.want)
			}
			for i := range tt.want {
				if s.Linux.Namespaces[i] != tt.want[i] {
					t.Fatalf("namespaces %+v, want %+v", s.Linux.Namespaces, tt.want)
				}
			}
		})
	}
}

func TestHostname(t *testing.T) {
	in := testInput(t)
	s := build(t, in)
	if s.Hostname != "0123456789ab" || s.Domainname != "" {
		t.Fatalf("hostname %q, domain %q", s.Hostname, s.Domainname)
	}
	in.Config.Hostname, in.Config.Domainname = "web", "example.org"
	s = build(t, in)
	if s.Hostname != "web" || s.Domainname != "example.org" {
		t.Fatalf("hostname %q, domain %q", s.Hostname, s.Domainname)
	}
	if _, ok := hasNamespace(s, specs.UTSNamespace); !ok {
		t.Fatal("a hostname needs a UTS namespace")
	}
	in.HostConfig.UTSMode = "host"
	s = build(t, in)
	if s.Hostname != "" || s.Domainname != "" {
		t.Fatalf("--uts=host: hostname %q, domain %q", s.Hostname, s.Domainname)
	}
}
