package storage

import (
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestNormalizeRegistry(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "docker.io",
		"docker.io":                   "docker.io",
		"https://index.docker.io/v1/": "docker.io",
		"registry-1.docker.io":        "docker.io",
		"quay.io":                     "quay.io",
		"https://quay.io/v2/":         "quay.io",
		"http://127.0.0.1:5000":       "127.0.0.1:5000",
		"localhost:5000/some/path":    "localhost:5000",
	} {
		if got := NormalizeRegistry(in); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
	if got := DisplayRegistry("docker.io"); got != "https://index.docker.io/v1/" {
		t.Errorf("docker.io shows as %q", got)
	}
}

func TestOCIEntryName(t *testing.T) {
	for _, tc := range []struct {
		annotations map[string]string
		want        string // "" for untagged
	}{
		{map[string]string{ocispec.AnnotationRefName: "latest"}, ""},
		{map[string]string{ocispec.AnnotationRefName: "1.0"}, ""},
		{map[string]string{}, ""},
		{map[string]string{ocispec.AnnotationRefName: "docker.io/library/alpine:3"}, "docker.io/library/alpine:3"},
		{map[string]string{ocispec.AnnotationRefName: "localhost/app"}, "localhost/app:latest"},
		{map[string]string{ocispec.AnnotationRefName: "latest", containerdNameAnnotation: "docker.io/library/busybox:latest"}, "docker.io/library/busybox:latest"},
	} {
		got := ociEntryName(tc.annotations)
		if (got == nil) != (tc.want == "") || got != nil && got.String() != tc.want {
			t.Errorf("%v: got %v, want %q", tc.annotations, got, tc.want)
		}
	}
}
