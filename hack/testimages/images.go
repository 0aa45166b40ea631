package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// busybox is the host's static busybox, the only program in the test images.
type busybox struct {
	binary  []byte
	applets []string // sorted, without "busybox" itself
}

// loadBusybox reads the binary at path and asks it for its applet list.
func loadBusybox(path string) (busybox, error) {
	binary, err := os.ReadFile(path)
	if err != nil {
		return busybox{}, fmt.Errorf("reading busybox (install busybox-static): %w", err)
	}
	out, err := exec.Command(path, "--list").Output()
	if err != nil {
		return busybox{}, fmt.Errorf("running %s --list: %w", path, err)
	}
	var applets []string
	for _, name := range strings.Fields(string(out)) {
		if name != "busybox" {
			applets = append(applets, name)
		}
	}
	// Sorted so that the layer does not depend on busybox's listing order.
	slices.Sort(applets)
	applets = slices.Compact(applets)
	return busybox{binary: binary, applets: applets}, nil
}

// imageDef is one repository of test images and how to build its content.
type imageDef struct {
	repo  string // repository path in the registry, e.g. "library/alpine"
	tags  []string
	build func(*builder) (artifact, error)
}

// imageDefs lists the test images in push order.
var imageDefs = []imageDef{
	{repo: "library/busybox", tags: []string{"latest"}, build: (*builder).busyboxImage},
	{repo: "library/alpine", tags: []string{"latest", "3.20"}, build: (*builder).alpineImage},
	{repo: "rrun-test/owners", tags: []string{"latest"}, build: (*builder).ownersImage},
	{repo: "rrun-test/multiarch", tags: []string{"latest"}, build: (*builder).multiarchImage},
	{repo: "rrun-test/big", tags: []string{"latest"}, build: (*builder).bigImage},
	{repo: "rrun-test/evil", tags: []string{"latest"}, build: (*builder).evilImage},
	{repo: "rrun-test/iperf3", tags: []string{"latest"}, build: (*builder).iperf3Image},
}

// builder builds the images of imageDefs, sharing the busybox base layer so
// that it is compressed once and has one digest in every image.
type builder struct {
	bb   busybox
	base *builtLayer
}

func (b *builder) baseLayer() (builtLayer, error) {
	if b.base == nil {
		l, err := busyboxLayer(b.bb).build()
		if err != nil {
			return builtLayer{}, err
		}
		b.base = &l
	}
	return *b.base, nil
}

// withBase builds the given layers and puts the base layer below them.
func (b *builder) withBase(upper ...*layer) ([]builtLayer, error) {
	base, err := b.baseLayer()
	if err != nil {
		return nil, err
	}
	layers := []builtLayer{base}
	for _, l := range upper {
		built, err := l.build()
		if err != nil {
			return nil, err
		}
		layers = append(layers, built)
	}
	return layers, nil
}

// shellConfig is the config of an amd64 image that starts a shell.
func shellConfig(name string) imageConfig {
	return imageConfig{
		arch:   "amd64",
		cmd:    []string{"/bin/sh"},
		labels: map[string]string{"org.rrun.test.image": name},
	}
}

// busyboxLayer is a minimal root filesystem: busybox with a symlink per
// applet, the usual top-level directories, and passwd/group files with root,
// an unprivileged user "app" and nobody. It has no /etc/hostname on purpose.
func busyboxLayer(bb busybox) *layer {
	l := newLayer("rrun testimages: busybox layer")
	for _, d := range []string{"bin", "dev", "etc", "home"} {
		l.dir(d, 0o755, 0, 0)
	}
	l.dir("home/app", 0o755, 1000, 1000)
	for _, d := range []string{"proc", "run", "sbin", "sys"} {
		l.dir(d, 0o755, 0, 0)
	}
	l.dir("root", 0o700, 0, 0)
	l.dir("tmp", 0o1777, 0, 0)
	for _, d := range []string{"usr", "usr/bin", "usr/sbin", "var"} {
		l.dir(d, 0o755, 0, 0)
	}

	l.file("bin/busybox", 0o755, 0, 0, bb.binary)
	for _, applet := range bb.applets {
		l.symlink("bin/"+applet, "busybox")
	}

	l.file("etc/passwd", 0o644, 0, 0, []byte(
		"root:x:0:0:root:/root:/bin/sh\n"+
			"app:x:1000:1000:app:/home/app:/bin/sh\n"+
			"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"))
	l.file("etc/group", 0o644, 0, 0, []byte(
		"root:x:0:\n"+
			"app:x:1000:\n"+
			"nogroup:x:65534:\n"))
	return l
}

func (b *builder) busyboxImage() (artifact, error) {
	layers, err := b.withBase()
	if err != nil {
		return artifact{}, err
	}
	return buildImage(shellConfig("busybox"), layers)
}

// alpineImage is the busybox root filesystem plus a release file, so that it
// shares its first layer with busybox but has a second one of its own.
func (b *builder) alpineImage() (artifact, error) {
	release := newLayer("rrun testimages: alpine release layer")
	release.dir("etc", 0o755, 0, 0)
	release.file("etc/alpine-release", 0o644, 0, 0, []byte("3.20.0-rrun-test\n"))

	layers, err := b.withBase(release)
	if err != nil {
		return artifact{}, err
	}
	return buildImage(shellConfig("alpine"), layers)
}

// ownersImage has files of several owners and modes, special file types and
// metadata, then an upper layer that deletes some of them with whiteouts.
func (b *builder) ownersImage() (artifact, error) {
	layers, err := b.withBase(ownersLayer(b.bb), ownersWhiteoutLayer())
	if err != nil {
		return artifact{}, err
	}
	return buildImage(shellConfig("owners"), layers)
}

func ownersLayer(bb busybox) *layer {
	l := newLayer("rrun testimages: owners layer")
	l.dir("data", 0o755, 0, 0)
	l.file("data/root-file", 0o644, 0, 0, []byte("owned by root\n"))
	l.file("data/user-file", 0o640, 1000, 1000, []byte("owned by app\n"))
	l.file("data/nobody-file", 0o600, 65534, 65534, []byte("owned by nobody\n"))
	l.dir("data/dir-1000", 0o750, 1000, 1000)
	l.file("data/dir-1000/file", 0o644, 1000, 1000, []byte("in a directory of app\n"))
	l.symlink("data/link", "root-file")
	l.symlink("data/abs-link", "/etc/passwd")
	l.hardlink("data/hardlink", "data/root-file")
	l.xattrFile("data/xattr-file", "user.rrun", "test", []byte("has a user xattr\n"))
	l.file("data/to-delete", 0o644, 0, 0, []byte("deleted by the next layer\n"))
	l.dir("data/opaque-dir", 0o755, 0, 0)
	l.file("data/opaque-dir/a", 0o644, 0, 0, []byte("a\n"))
	l.file("data/opaque-dir/b", 0o644, 0, 0, []byte("b\n"))

	l.dir("usr", 0o755, 0, 0)
	l.dir("usr/bin", 0o755, 0, 0)
	l.file("usr/bin/suid-busybox", 0o4755, 0, 0, bb.binary)
	l.file("usr/bin/sgid-file", 0o2755, 0, 1000, []byte("#!/bin/sh\nid\n"))
	return l
}

// ownersWhiteoutLayer leaves /data/opaque-dir with only "c" and removes
// /data/to-delete.
func ownersWhiteoutLayer() *layer {
	l := newLayer("rrun testimages: owners whiteout layer")
	l.dir("data", 0o755, 0, 0)
	l.whiteout("data", "to-delete")
	l.dir("data/opaque-dir", 0o755, 0, 0)
	l.opaque("data/opaque-dir")
	l.file("data/opaque-dir/c", 0o644, 0, 0, []byte("c\n"))
	return l
}

// multiarchImage is an index of an amd64 image (runnable here) and an arm64
// one that only differ in /etc/arch, so a test can tell which was chosen.
func (b *builder) multiarchImage() (artifact, error) {
	amd64Layers, err := b.withBase(archLayer("amd64"))
	if err != nil {
		return artifact{}, err
	}
	amd64, err := buildImage(shellConfig("multiarch"), amd64Layers)
	if err != nil {
		return artifact{}, err
	}

	arm64Layer, err := archLayer("arm64").build()
	if err != nil {
		return artifact{}, err
	}
	// No shell in the arm64 image, so no Cmd: nothing here could run it.
	arm64, err := buildImage(imageConfig{
		arch:   "arm64",
		labels: map[string]string{"org.rrun.test.image": "multiarch"},
	}, []builtLayer{arm64Layer})
	if err != nil {
		return artifact{}, err
	}
	return buildIndex(amd64, arm64)
}

func archLayer(arch string) *layer {
	l := newLayer("rrun testimages: " + arch + " arch layer")
	l.dir("etc", 0o755, 0, 0)
	l.file("etc/arch", 0o644, 0, 0, []byte(arch+"\n"))
	return l
}

// bigLayerSize is the size of each random file of the big image: five of
// them make it about 50 MB, compressed or not.
const bigLayerSize = 10 << 20

// bigImage is large enough for pull progress, timing and disk-usage tests.
func (b *builder) bigImage() (artifact, error) {
	var upper []*layer
	for n := 1; n <= 5; n++ {
		l := newLayer(fmt.Sprintf("rrun testimages: big layer %d", n))
		l.dir("big", 0o755, 0, 0)
		l.file(fmt.Sprintf("big/layer%d.bin", n), 0o644, 0, 0, randomBytes(n, bigLayerSize))
		upper = append(upper, l)
	}
	layers, err := b.withBase(upper...)
	if err != nil {
		return artifact{}, err
	}
	return buildImage(shellConfig("big"), layers)
}

// randomBytes returns incompressible data that is the same on every run:
// ChaCha8's output for a seed is fixed by its specification.
func randomBytes(seed, size int) []byte {
	var key [32]byte
	copy(key[:], fmt.Sprintf("rrun-testimages-big-%d", seed))
	buf := make([]byte, size)
	// ChaCha8.Read never fails.
	_, _ = rand.NewChaCha8(key).Read(buf)
	return buf
}

// evilImage tries to make an unpacker write outside the root filesystem:
// through "..", an absolute path, a symlink to /tmp followed by a file below
// it, and a relative symlink that climbs to the host's /etc/passwd.
func (b *builder) evilImage() (artifact, error) {
	evil := newLayer("rrun testimages: evil layer")
	evil.file("../escape-dotdot", 0o644, 0, 0, []byte("written through ..\n"))
	evil.file("/abs-escape", 0o644, 0, 0, []byte("written through an absolute path\n"))
	evil.symlink("evil-link", "/tmp")
	evil.file("evil-link/escaped-file", 0o644, 0, 0, []byte("written through a symlink\n"))
	evil.symlink("etc/evil-passwd-link", "../../../../../etc/passwd")

	layers, err := b.withBase(evil)
	if err != nil {
		return artifact{}, err
	}
	return buildImage(shellConfig("evil"), layers)
}

// iperf3Path is the host's iperf3, from Debian's package iperf3.
const iperf3Path = "/usr/bin/iperf3"

// iperf3Image is busybox plus the host's iperf3 at /usr/bin/iperf3 with its
// dynamic loader and shared libraries (glibc, libiperf, libcrypto, libsctp),
// for network throughput tests and benchmarks. Its digest depends on the
// host's iperf3 and libraries, so it changes when they are upgraded.
func (b *builder) iperf3Image() (artifact, error) {
	l, err := hostProgramLayer("rrun testimages: iperf3 layer", iperf3Path, "iperf3")
	if err != nil {
		return artifact{}, err
	}
	// Without nsswitch.conf glibc looks host names up with "dns
	// [!UNAVAIL=return] files": /etc/hosts (host.containers.internal) would
	// only be read when no DNS server answers at all.
	l.dir("etc", 0o755, 0, 0)
	l.file("etc/nsswitch.conf", 0o644, 0, 0, []byte("hosts: files dns\n"))

	layers, err := b.withBase(l)
	if err != nil {
		return artifact{}, err
	}
	return buildImage(shellConfig("iperf3"), layers)
}

// lookupImage finds a definition by repository ("rrun-test/owners") or by its
// last element ("owners").
func lookupImage(name string) (imageDef, error) {
	var known []string
	for _, def := range imageDefs {
		if def.repo == name || def.repo[strings.LastIndex(def.repo, "/")+1:] == name {
			return def, nil
		}
		known = append(known, def.repo)
	}
	return imageDef{}, fmt.Errorf("unknown image %q (known: %s)", name, strings.Join(known, ", "))
}
