package storage

import (
	"errors"
	"testing"

	"github.com/containerd/errdefs"
)

func TestParseReference(t *testing.T) {
	tests := []struct {
		in, want string
		invalid  bool
	}{
		{in: "UPPER", invalid: true},
		{in: "docker://alpine", invalid: true},
		{in: "alpine:", invalid: true},
		{in: "alpine", want: "docker.io/library/alpine:latest"},
		{in: "alpine:3.20", want: "docker.io/library/alpine:3.20"},
		{in: "user/app", want: "docker.io/user/app:latest"},
		{in: "127.0.0.1:5000/a/b:t", want: "127.0.0.1:5000/a/b:t"},
		{in: "alpine@sha256:8e1a3833c0506af8ea879ed94c2849effcc194c40810296dc12da5ac38fbf726", want: "docker.io/library/alpine@sha256:8e1a3833c0506af8ea879ed94c2849effcc194c40810296dc12da5ac38fbf726"},
	}
	for _, tt := range tests {
		got, err := ParseReference(tt.in)
		if tt.invalid {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("%q: err = %v, want invalid argument", tt.in, err)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("%q: got %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestIsLoopbackRegistry(t *testing.T) {
	for reg, want := range map[string]bool{
		"localhost:5000": true, "127.0.0.1:5000": true, "127.1.2.3": true, "[::1]:5000": true,
		"docker.io": false, "10.0.0.1:5000": false, "localhost.example.com": false,
	} {
		if got := isLoopbackRegistry(reg); got != want {
			t.Errorf("%s: %v, want %v", reg, got, want)
		}
	}
}

func TestParsePlatform(t *testing.T) {
	for in, want := range map[string]string{"linux/arm64/v8": "linux/arm64/v8", "linux/x86_64": "linux/amd64", "LINUX/AARCH64": "linux/arm64"} {
		p, err := ParsePlatform(in)
		if err != nil || p.String() != want {
			t.Errorf("%q: %v %v, want %s", in, p, err, want)
		}
	}
	for _, bad := range []string{"", "/", "linux/", "a/b/c/d"} {
		if _, err := ParsePlatform(bad); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%q: err %v, want invalid argument", bad, err)
		}
	}
}

func TestParseFilters(t *testing.T) {
	f, err := ParseFilters([]string{"label=a=b", "Dangling=true", "label=c"})
	if err != nil || len(f["label"]) != 2 || f["dangling"][0] != "true" {
		t.Fatalf("got %v, %v", f, err)
	}
	if _, err := ParseFilters([]string{"novalue"}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("err %v", err)
	}
}
