package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker/archive"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/signature"
	istorage "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
)

// LoadOptions tune Load.
type LoadOptions struct {
	// Source names the input in messages: the file, or "stdin".
	Source string
	// Progress receives containers/image's progress report; nil is silent.
	Progress io.Writer
}

// LoadedImage is one image Load stored.
type LoadedImage struct {
	ID   string   // sha256:…
	Tags []string // familiar names (alpine:latest); none for an untagged image
	// Moved are tags that named another image before, which docker
	// reports as "renaming the old one … to empty string".
	Moved []MovedTag
}

// MovedTag is a tag that Load took from another image.
type MovedTag struct {
	Tag    string // familiar name
	FromID string // sha256:… of the image that had it
}

// loadSource is one image of an archive with the names it carries.
type loadSource struct {
	ref   types.ImageReference
	names []reference.Named
}

// Load stores every image of a docker or OCI archive (plain or compressed)
// under the names it carries, as docker load does. The archive is checked
// whole before anything is stored; a damaged one is an invalid argument.
func (s *Store) Load(ctx context.Context, r io.Reader, opts LoadOptions) ([]LoadedImage, error) {
	source := opts.Source
	if source == "" {
		source = "stdin"
	}
	invalid := func(err error) error {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("loading %s: %v", source, err))
	}
	scratch, err := s.scratchDir("load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	f, err := seekableFile(r, filepath.Join(scratch, "archive"))
	if err != nil {
		return nil, invalid(err)
	}
	defer f.Close()
	scan, err := scanArchive(f)
	if err != nil {
		return nil, invalid(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}

	sys, policy, err := s.localCopyContext()
	if err != nil {
		return nil, err
	}
	defer func() { _ = policy.Destroy() }()
	var sources []loadSource
	if scan.format == FormatDockerArchive {
		rd, err := archive.NewReader(sys, fdPath(f))
		if err != nil {
			return nil, invalid(err)
		}
		defer rd.Close()
		if sources, err = dockerArchiveSources(rd); err != nil {
			return nil, invalid(err)
		}
	} else {
		dir := filepath.Join(scratch, "layout")
		root, err := extractLayout(f, dir)
		if err != nil {
			return nil, invalid(err)
		}
		defer root.Close()
		if sources, err = ociArchiveSources(layout.NewReaderWithRoot(root), dir, scan.index); err != nil {
			return nil, invalid(err)
		}
	}

	var loaded []LoadedImage
	for _, src := range sources {
		img, err := s.loadOne(ctx, sys, policy, src, opts.Progress)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return loaded, err
			}
			return loaded, invalid(err)
		}
		loaded = append(loaded, *img)
		s.imageEvent(events.ActionLoad, img.ID, img.ID, nil)
	}
	return loaded, nil
}

// seekableFile returns r itself when it is a regular file, else a copy of
// it in path: the archive is read more than once.
func seekableFile(r io.Reader, path string) (*os.File, error) {
	if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			// A second descriptor, so that closing it leaves the caller's open.
			return os.Open(fdPath(f))
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return nil, fmt.Errorf("reading the archive: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// dockerArchiveSources lists a docker archive's images with their RepoTags.
func dockerArchiveSources(rd *archive.Reader) ([]loadSource, error) {
	groups, err := rd.List()
	if err != nil {
		return nil, err
	}
	var out []loadSource
	for _, refs := range groups {
		src := loadSource{ref: refs[0]}
		for _, ref := range refs {
			if named := ref.DockerReference(); named != nil {
				src.names = append(src.names, named)
			}
		}
		out = append(out, src)
	}
	return out, nil
}

// ociArchiveSources lists an OCI archive's images, one per manifest, with
// the names of all index entries that point at it.
func ociArchiveSources(rd *layout.Reader, dir string, index *ocispec.Index) ([]loadSource, error) {
	var out []loadSource
	seen := map[string]int{} // manifest digest -> position in out
	for i, desc := range index.Manifests {
		named := ociEntryName(desc.Annotations)
		if j, ok := seen[desc.Digest.String()]; ok {
			if named != nil {
				out[j].names = append(out[j].names, named)
			}
			continue
		}
		ref, err := rd.NewIndexReference(dir, i)
		if err != nil {
			return nil, err
		}
		src := loadSource{ref: ref}
		if named != nil {
			src.names = append(src.names, named)
		}
		seen[desc.Digest.String()] = len(out)
		out = append(out, src)
	}
	return out, nil
}

// ociEntryName is the image name an OCI index entry carries: docker's
// io.containerd.image.name, else org.opencontainers.image.ref.name when it
// is a full name, as podman and skopeo write it. A bare tag ("latest",
// "1.0") names no repository, so that image stays untagged.
func ociEntryName(annotations map[string]string) reference.Named {
	candidates := []string{annotations[containerdNameAnnotation]}
	if v := annotations[ocispec.AnnotationRefName]; strings.ContainsAny(v, "/:") {
		candidates = append(candidates, v)
	}
	for _, v := range candidates {
		if named, err := reference.ParseNormalizedNamed(v); v != "" && err == nil {
			return reference.TagNameOnly(named)
		}
	}
	return nil
}

// loadOne stores one image under its first name (or its id alone) and
// adds the other names.
func (s *Store) loadOne(ctx context.Context, sys *types.SystemContext, policy *signature.PolicyContext, src loadSource, progress io.Writer) (*LoadedImage, error) {
	img, err := src.ref.NewImage(ctx, sys)
	if err != nil {
		return nil, err
	}
	id := img.ConfigInfo().Digest
	img.Close()
	if err := id.Validate(); err != nil {
		return nil, fmt.Errorf("image config digest: %w", err)
	}
	out := &LoadedImage{ID: id.String()}
	var first reference.Named
	var names []string
	for _, n := range src.names {
		if first == nil {
			first = n
		}
		names = append(names, n.String())
		out.Tags = append(out.Tags, reference.FamiliarString(n))
		if prev, err := s.cs.Image(n.String()); err == nil && prev.ID != id.Encoded() && hasName(prev, n.String()) {
			out.Moved = append(out.Moved, MovedTag{Tag: reference.FamiliarString(n), FromID: "sha256:" + prev.ID})
		}
	}
	dest, err := istorage.Transport.NewStoreReference(s.cs, first, id.Encoded())
	if err != nil {
		return nil, err
	}
	if _, err := copy.Image(ctx, policy, dest, src.ref, &copy.Options{
		SourceCtx:          sys,
		DestinationCtx:     sys,
		ReportWriter:       progress,
		ImageListSelection: copy.CopySystemImage,
	}); err != nil {
		return nil, err
	}
	if len(names) > 1 {
		if err := s.cs.AddNames(id.Encoded(), names[1:]); err != nil {
			return nil, fmt.Errorf("tagging image %s: %w", shortID(id.Encoded()), err)
		}
	}
	return out, nil
}
