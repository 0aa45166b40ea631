// Command testimages builds the container images that rrun's tests pull and
// pushes them to a local registry.
//
// The images are made from the host's static busybox and from data generated
// here (and rrun-test/iperf3 from the host's iperf3 and its shared
// libraries), so the tests need no network. Each image is built in memory, with
// fixed timestamps, ownership and compression, so that its digests are the
// same on every run and on every machine with the same busybox: a run only
// pushes the tags whose manifest in the registry differs from the one built.
//
// Usage:
//
//	go run -tags 'containers_image_openpgp exclude_graphdriver_btrfs' ./hack/testimages \
//		--registry 127.0.0.1:5000 [--only NAME]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

func main() {
	registry := flag.String("registry", "127.0.0.1:5000", "`ADDRESS` of the registry to push to (plain HTTP)")
	only := flag.String("only", "", "build and push only the image `NAME` (e.g. rrun-test/owners or owners)")
	busyboxPath := flag.String("busybox", "/bin/busybox", "static busybox `PATH` the images are made of")
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *registry, *only, *busyboxPath); err != nil {
		fmt.Fprintf(os.Stderr, "testimages: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, registry, only, busyboxPath string) error {
	defs := imageDefs
	if only != "" {
		def, err := lookupImage(only)
		if err != nil {
			return err
		}
		defs = []imageDef{def}
	}

	bb, err := loadBusybox(busyboxPath)
	if err != nil {
		return err
	}
	workDir, err := os.MkdirTemp("", "rrun-testimages-")
	if err != nil {
		return fmt.Errorf("creating work directory: %w", err)
	}
	defer os.RemoveAll(workDir)

	p, err := newPusher(registry, workDir)
	if err != nil {
		return err
	}
	defer p.Close()

	b := &builder{bb: bb}
	for _, def := range defs {
		if err := publish(ctx, p, b, def, workDir); err != nil {
			return err
		}
	}
	return nil
}

// publish builds one image and pushes each of its tags that the registry
// does not already have, printing one line per tag.
func publish(ctx context.Context, p *pusher, b *builder, def imageDef, workDir string) error {
	art, err := def.build(b)
	if err != nil {
		return fmt.Errorf("building %s: %w", def.repo, err)
	}
	want := art.top.digest

	layoutDir := "" // written on the first tag that needs a push
	for _, tag := range def.tags {
		status := "up to date"
		// Any error (typically "manifest unknown") just means: push it. If the
		// registry cannot be reached, the push reports that.
		if have, err := p.remoteDigest(ctx, def.repo, tag); err != nil || have != want {
			if layoutDir == "" {
				layoutDir = filepath.Join(workDir, "layout-"+want.Encoded())
				if err := art.writeLayout(layoutDir); err != nil {
					return fmt.Errorf("writing %s: %w", def.repo, err)
				}
			}
			if err := p.push(ctx, layoutDir, def.repo, tag, want); err != nil {
				return err
			}
			status = "pushed"
		}
		fmt.Printf("%-28s %s %s\n", def.repo+":"+tag, want, status)
	}
	return nil
}
