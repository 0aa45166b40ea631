package engine

import (
	"fmt"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

func TestImageConfigFromContainer(t *testing.T) {
	port, err := network.ParsePort("8080/tcp")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &container.Config{
		User:         "app",
		Env:          []string{"PATH=/bin", "A=b"},
		Cmd:          []string{"sh", "-c", "echo hi"},
		Entrypoint:   []string{"/entry"},
		WorkingDir:   "/srv",
		Labels:       map[string]string{"k": "v"},
		ExposedPorts: network.PortSet{port: {}},
		Volumes:      map[string]struct{}{"/data": {}},
		StopSignal:   "SIGINT",
		Shell:        []string{"/bin/bash", "-c"},
		Hostname:     "not-in-an-image",
		Image:        "alpine",
	}
	got := imageConfig(cfg)
	if got.User != "app" || fmt.Sprint(got.Env) != "[PATH=/bin A=b]" || fmt.Sprint(got.Cmd) != "[sh -c echo hi]" ||
		fmt.Sprint(got.Entrypoint) != "[/entry]" || got.WorkingDir != "/srv" || got.Labels["k"] != "v" ||
		got.StopSignal != "SIGINT" || fmt.Sprint(got.Shell) != "[/bin/bash -c]" {
		t.Errorf("config %+v", got)
	}
	if _, ok := got.ExposedPorts["8080/tcp"]; !ok || len(got.ExposedPorts) != 1 {
		t.Errorf("ports %v", got.ExposedPorts)
	}
	if _, ok := got.Volumes["/data"]; !ok {
		t.Errorf("volumes %v", got.Volumes)
	}
	// The image's config is a copy: changes to it leave the container's alone.
	got.Env[0], got.Labels["k"] = "X=y", "changed"
	if cfg.Env[0] != "PATH=/bin" || cfg.Labels["k"] != "v" {
		t.Error("the container's config was changed through the image's")
	}
	if empty := imageConfig(&container.Config{}); empty.ExposedPorts != nil || empty.Volumes != nil {
		t.Errorf("empty config %+v", empty)
	}
}
