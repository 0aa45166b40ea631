# rrun — build, test and demo. `make help` lists the targets.
#
# The build needs Go (1.26), gcc and libc6-dev (cgo: rrun joins its user
# namespace from a C constructor, and containers/image's blob cache uses
# sqlite), and pkg-config; `make setup` installs them with the test tools.

SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)

GO        ?= go
BIN       := bin/rrun
# containers_image_openpgp: pure-Go signatures instead of gpgme;
# exclude_graphdriver_btrfs: no btrfs headers needed; seccomp: libcontainer
# applies seccomp profiles through libseccomp (libseccomp-dev).
GOTAGS    := containers_image_openpgp,exclude_graphdriver_btrfs,seccomp
VERSION   ?= $(shell git describe --tags --dirty 2>/dev/null || echo 0.1.0-dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS   := -X github.com/rrun/rrun/pkg/version.Version=$(VERSION) -X github.com/rrun/rrun/pkg/version.GitCommit=$(COMMIT)
export CGO_ENABLED := 1
export GOFLAGS     := -buildvcs=false -tags=$(GOTAGS)

# Who runs the end-to-end suite and the demo: an unprivileged user with
# subordinate id ranges, created by hack/setup.sh when run as root.
E2E_USER  ?= rrun-test
DEMO_USER ?= rrun-demo

.PHONY: help build setup test test-unit test-e2e bench demo fmt vet clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# rrun is linked statically: the same binary runs inside any image as the
# container's init (--init), and it has no run-time library dependencies.
# (glibc's linker warns about getpwnam/getaddrinfo in a static binary:
# osusergo and netgo mean Go's own code does those lookups.)
build: ## Build bin/rrun (static)
	$(GO) build -tags=$(GOTAGS),osusergo,netgo -ldflags '$(LDFLAGS) -linkmode external -extldflags "-static"' -o $(BIN) .

setup: ## Prepare the host as root: packages, test user, local registry, test images
	hack/setup.sh $(E2E_USER)

test: setup test-unit test-e2e ## Everything CI runs: host setup, unit tests, end-to-end suite

test-unit: ## Unit tests (no root, no registry needed)
	$(GO) test -count=1 ./...

# The suite runs once per storage driver: native overlay, fuse-overlayfs, vfs.
E2E_DRIVERS ?= overlay fuse-overlayfs vfs
E2E_RUN     ?= .

test-e2e: build ## End-to-end suite: the built binary as an unprivileged user, once per storage driver
	@for d in $(E2E_DRIVERS); do \
		echo "=== e2e with storage driver $$d"; \
		RRUN_BINARY=$(CURDIR)/$(BIN) RRUN_E2E_USER=$(E2E_USER) RRUN_E2E_STORAGE_DRIVER=$$d \
			$(GO) test -count=1 -tags=$(GOTAGS),e2e -timeout 30m -v -run '$(E2E_RUN)' ./test/e2e/ || exit 1; \
	done

bench: build ## Benchmarks beside rootless podman (installs podman)
	hack/bench/run.sh $(CURDIR)/$(BIN)

demo: ## Prepare the host, build, and run a container as an unprivileged demo user
	hack/setup.sh $(DEMO_USER)
	$(MAKE) build
	hack/demo.sh $(DEMO_USER) $(CURDIR)/$(BIN)

fmt: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')

vet: ## go vet
	$(GO) vet ./...

clean: ## Remove build output
	rm -rf bin
