package storage

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

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

// Archive formats of save and load.
const (
	FormatDockerArchive = "docker-archive" // docker save's: manifest.json with RepoTags
	FormatOCIArchive    = "oci-archive"    // an OCI image layout in a tar
)

// containerdNameAnnotation carries the full image name in OCI archives
// written by docker (and containerd), where org.opencontainers.image.ref.name
// holds only the tag.
const containerdNameAnnotation = "io.containerd.image.name"

// SaveOptions say where and how Save writes.
type SaveOptions struct {
	// Format is FormatDockerArchive (the default) or FormatOCIArchive.
	Format string
	// Output is a file to write. It is replaced atomically, so a failed
	// save leaves any earlier file as it was. When empty, the archive
	// goes to Writer.
	Output string
	Writer io.Writer
}

// saveItem is one image to save with the tags it is saved under.
type saveItem struct {
	id   string
	tags []reference.NamedTagged
}

// Save writes images to one archive, as docker save: a name with a tag
// saves that tag, a repository name alone saves all its tags, an id saves
// the image untagged.
func (s *Store) Save(ctx context.Context, names []string, opts SaveOptions) error {
	if len(names) == 0 {
		return errdefs.ErrInvalidArgument.WithMessage("no image to save")
	}
	format := opts.Format
	if format == "" {
		format = FormatDockerArchive
	}
	if format != FormatDockerArchive && format != FormatOCIArchive {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("unsupported archive format %q: use %s or %s", format, FormatDockerArchive, FormatOCIArchive))
	}
	if opts.Output == "" && opts.Writer == nil {
		return errdefs.ErrInvalidArgument.WithMessage("save needs an output file or a writer")
	}
	items, err := s.saveItems(names)
	if err != nil {
		return err
	}

	// The archive is written to a temporary file: beside the output, to be
	// renamed over it at the end, or in the scratch directory for a writer.
	var tmp *os.File
	if opts.Output != "" {
		tmp, err = os.CreateTemp(filepath.Dir(opts.Output), "."+filepath.Base(opts.Output)+".rrun-*")
	} else {
		var dir string
		if dir, err = s.scratchDir("save-"); err == nil {
			defer os.RemoveAll(dir)
			tmp, err = os.Create(filepath.Join(dir, "archive.tar"))
		}
	}
	if err != nil {
		return fmt.Errorf("creating the archive: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name()) // a no-op once renamed
	}()

	if format == FormatDockerArchive {
		err = s.saveDockerArchive(ctx, items, fdPath(tmp))
	} else {
		err = s.saveOCIArchive(ctx, items, tmp)
	}
	if err != nil {
		return err
	}
	for _, it := range items {
		s.imageEvent(events.ActionSave, "sha256:"+it.id, "sha256:"+it.id, nil)
	}

	if opts.Output == "" {
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if _, err := io.Copy(opts.Writer, tmp); err != nil {
			return fmt.Errorf("writing the archive: %w", err)
		}
		return nil
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", opts.Output, err)
	}
	if err := os.Rename(tmp.Name(), opts.Output); err != nil {
		return fmt.Errorf("writing %s: %w", opts.Output, err)
	}
	return nil
}

// saveItems resolves the names as docker save does, one item per image
// in the order first named, with each tag once.
func (s *Store) saveItems(names []string) ([]saveItem, error) {
	var items []saveItem
	add := func(id string, tag reference.NamedTagged) {
		i := slices.IndexFunc(items, func(it saveItem) bool { return it.id == id })
		if i < 0 {
			items = append(items, saveItem{id: id})
			i = len(items) - 1
		}
		if tag != nil && !slices.ContainsFunc(items[i].tags, func(t reference.NamedTagged) bool { return t.String() == tag.String() }) {
			items[i].tags = append(items[i].tags, tag)
		}
	}
	for _, name := range names {
		if named, err := reference.ParseNormalizedNamed(name); err == nil && reference.IsNameOnly(named) {
			tags, err := s.repositoryTags(named)
			if err != nil {
				return nil, err
			}
			for _, t := range tags {
				add(t.id, t.tag)
			}
			if len(tags) > 0 {
				continue
			}
		}
		img, byName, err := s.lookupImage(name)
		if err != nil {
			return nil, err
		}
		var tag reference.NamedTagged
		if byName != "" {
			if named, err := reference.ParseNormalizedNamed(byName); err == nil {
				tag, _ = named.(reference.NamedTagged) // nil for a digest: saved untagged, as docker does
			}
		}
		add(img.ID, tag)
	}
	return items, nil
}

type repoTag struct {
	id  string
	tag reference.NamedTagged
}

// repositoryTags lists every tag of a repository, oldest image first.
func (s *Store) repositoryTags(repo reference.Named) ([]repoTag, error) {
	records, err := s.records()
	if err != nil {
		return nil, err
	}
	var out []repoTag
	for i := len(records) - 1; i >= 0; i-- {
		for _, n := range records[i].img.Names {
			named, err := reference.ParseNormalizedNamed(n)
			if err != nil || named.Name() != repo.Name() {
				continue
			}
			if t, ok := named.(reference.NamedTagged); ok {
				out = append(out, repoTag{id: records[i].img.ID, tag: t})
			}
		}
	}
	return out, nil
}

// saveDockerArchive writes all items into one docker-archive at path,
// each image once with all its tags.
func (s *Store) saveDockerArchive(ctx context.Context, items []saveItem, path string) error {
	sys, policy, err := s.localCopyContext()
	if err != nil {
		return err
	}
	defer func() { _ = policy.Destroy() }()
	w, err := archive.NewWriter(sys, path)
	if err != nil {
		return fmt.Errorf("creating the archive: %w", err)
	}
	for _, it := range items {
		var first reference.NamedTagged
		itemSys := *sys
		if len(it.tags) > 0 {
			first = it.tags[0]
			for _, t := range it.tags[1:] {
				itemSys.DockerArchiveAdditionalTags = append(itemSys.DockerArchiveAdditionalTags, t)
			}
		}
		dest, err := w.NewReference(first)
		if err != nil {
			w.Close()
			return err
		}
		if err := s.copyOut(ctx, policy, it, dest, &itemSys); err != nil {
			w.Close()
			return err
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("finishing the archive: %w", err)
	}
	return nil
}

// saveOCIArchive copies the items into an OCI layout, one index entry per
// tag (or one untagged), and writes the layout as a tar to out.
func (s *Store) saveOCIArchive(ctx context.Context, items []saveItem, out io.Writer) error {
	sys, policy, err := s.localCopyContext()
	if err != nil {
		return err
	}
	defer func() { _ = policy.Destroy() }()
	dir, err := s.scratchDir("save-oci-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for _, it := range items {
		names := []string{""}
		if len(it.tags) > 0 {
			names = names[:0]
			for _, t := range it.tags {
				names = append(names, t.String())
			}
		}
		for _, n := range names {
			dest, err := layout.NewReference(dir, n)
			if err != nil {
				return err
			}
			if err := s.copyOut(ctx, policy, it, dest, sys); err != nil {
				return err
			}
		}
	}
	if err := addContainerdNames(dir); err != nil {
		return err
	}
	if err := tarDirectory(dir, out); err != nil {
		return fmt.Errorf("writing the archive: %w", err)
	}
	return nil
}

// copyOut copies one stored image to an archive destination.
func (s *Store) copyOut(ctx context.Context, policy *signature.PolicyContext, it saveItem, dest types.ImageReference, sys *types.SystemContext) error {
	src, err := istorage.Transport.NewStoreReference(s.cs, nil, it.id)
	if err != nil {
		return err
	}
	if _, err := copy.Image(ctx, policy, dest, src, &copy.Options{SourceCtx: sys, DestinationCtx: sys}); err != nil {
		return fmt.Errorf("saving image %s: %w", shortID(it.id), err)
	}
	return nil
}

// addContainerdNames gives each named index entry docker's annotation for
// the full name, so docker load finds the name too; podman and skopeo read
// org.opencontainers.image.ref.name, which holds it already.
func addContainerdNames(dir string) error {
	path := filepath.Join(dir, ocispec.ImageIndexFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var index ocispec.Index
	if err := json.Unmarshal(data, &index); err != nil {
		return fmt.Errorf("reading the archive index: %w", err)
	}
	for i, m := range index.Manifests {
		if name := m.Annotations[ocispec.AnnotationRefName]; name != "" {
			index.Manifests[i].Annotations[containerdNameAnnotation] = name
		}
	}
	data, err = json.Marshal(index)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// tarDirectory writes the regular files and directories under dir, which
// is all an OCI layout holds, as a tar with fixed owners and stable order.
func tarDirectory(dir string, out io.Writer) error {
	tw := tar.NewWriter(out)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() && !info.IsDir() {
			return fmt.Errorf("unexpected file %s in the image layout", rel)
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if info.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.IsDir() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
