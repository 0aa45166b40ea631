package engine

import (
	"strings"
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
)

func TestContainerCgroup(t *testing.T) {
	if got := containerCgroup(CgroupSet{Version: "hybrid"}, 1000, "abc"); got != "" {
		t.Fatalf("no limits possible, yet cgroup %q", got)
	}
	got := containerCgroup(CgroupSet{Version: "v2", Limits: true}, 1000, "abc")
	if got != "/user.slice/user-1000.slice/user@1000.service/rrun.slice/rrun-abc.scope" {
		t.Fatalf("cgroup %q", got)
	}
}

func TestMergeImageConfig(t *testing.T) {
	tests := []struct {
		name               string
		user               container.Config
		wantEntry, wantCmd string
		wantEnv            string
	}{
		{name: "image defaults", user: container.Config{}, wantEntry: "/entry", wantCmd: "img-cmd", wantEnv: "PATH=/bin A=img"},
		{name: "user cmd keeps image entrypoint", user: container.Config{Cmd: []string{"mine"}}, wantEntry: "/entry", wantCmd: "mine", wantEnv: "PATH=/bin A=img"},
		{name: "user entrypoint drops image cmd", user: container.Config{Entrypoint: []string{"/x"}}, wantEntry: "/x", wantCmd: "", wantEnv: "PATH=/bin A=img"},
		{name: "empty entrypoint clears it", user: container.Config{Entrypoint: []string{""}, Cmd: []string{"sh"}}, wantEntry: "", wantCmd: "sh", wantEnv: "PATH=/bin A=img"},
		{name: "env merges by name", user: container.Config{Env: []string{"A=mine", "B=b"}}, wantEntry: "/entry", wantCmd: "img-cmd", wantEnv: "PATH=/bin A=mine B=b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.user
			mergeImageConfig(&cfg, imageConfigForTest())
			if got := strings.Join(cfg.Entrypoint, " "); got != tt.wantEntry {
				t.Errorf("entrypoint %q, want %q", got, tt.wantEntry)
			}
			if got := strings.Join(cfg.Cmd, " "); got != tt.wantCmd {
				t.Errorf("cmd %q, want %q", got, tt.wantCmd)
			}
			if got := strings.Join(cfg.Env, " "); got != tt.wantEnv {
				t.Errorf("env %q, want %q", got, tt.wantEnv)
			}
		})
	}
}

func imageConfigForTest() *dockerspec.DockerOCIImageConfig {
	c := &dockerspec.DockerOCIImageConfig{}
	c.Entrypoint = []string{"/entry"}
	c.Cmd = []string{"img-cmd"}
	c.Env = []string{"PATH=/bin", "A=img"}
	return c
}
