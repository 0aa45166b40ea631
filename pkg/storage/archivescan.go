package storage

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/pkg/compression"
)

// maxArchiveMetadata bounds manifest.json and index.json, which are read
// into memory.
const maxArchiveMetadata = 16 << 20

// archiveScan is what one pass over an image archive found.
type archiveScan struct {
	format string                // FormatDockerArchive or FormatOCIArchive
	files  map[string]bool       // regular files, by cleaned path
	docker []dockerManifestEntry // manifest.json, for docker archives
	index  *ocispec.Index        // index.json, for OCI archives
}

// dockerManifestEntry is one image of a docker archive's manifest.json.
type dockerManifestEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// scanArchive reads a whole image archive (tar, possibly compressed) once,
// before anything is stored: it tells docker's format from OCI's and
// finds truncation, corruption and missing members, so a bad archive
// fails with a clear message rather than halfway through a copy. Docker
// archives that also carry an index.json (docker 25 and later write both)
// are read as docker archives, as docker does.
func scanArchive(r io.Reader) (*archiveScan, error) {
	stream, _, err := compression.AutoDecompress(r)
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	scan := &archiveScan{files: map[string]bool{}}
	var manifestJSON, indexJSON []byte
	tr := tar.NewReader(stream)
	entries := 0
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && entries == 0 {
			return nil, fmt.Errorf("not a tar archive: %v", err)
		}
		if err != nil {
			return nil, archiveReadError(err)
		}
		entries++
		name := path.Clean(strings.TrimPrefix(hdr.Name, "/"))
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeSymlink && hdr.Typeflag != tar.TypeLink {
			continue
		}
		scan.files[name] = true
		switch name {
		case "manifest.json", ocispec.ImageIndexFile:
			data, err := io.ReadAll(io.LimitReader(tr, maxArchiveMetadata+1))
			if err != nil {
				return nil, archiveReadError(err)
			}
			if len(data) > maxArchiveMetadata {
				return nil, fmt.Errorf("%s is larger than %d bytes", name, maxArchiveMetadata)
			}
			if name == "manifest.json" {
				manifestJSON = data
			} else {
				indexJSON = data
			}
		default:
			// Reading each member to its end finds a truncated one.
			if _, err := io.Copy(io.Discard, tr); err != nil {
				return nil, archiveReadError(err)
			}
		}
	}
	if entries == 0 {
		return nil, errors.New("empty input: not an image archive")
	}
	switch {
	case manifestJSON != nil:
		scan.format = FormatDockerArchive
		if err := json.Unmarshal(manifestJSON, &scan.docker); err != nil {
			return nil, fmt.Errorf("manifest.json is damaged: %v", err)
		}
		for _, m := range scan.docker {
			for _, member := range append([]string{m.Config}, m.Layers...) {
				if !scan.files[path.Clean(member)] {
					return nil, fmt.Errorf("archive is incomplete: %s, listed in manifest.json, is missing", member)
				}
			}
		}
	case indexJSON != nil:
		scan.format = FormatOCIArchive
		scan.index = &ocispec.Index{}
		if err := json.Unmarshal(indexJSON, scan.index); err != nil {
			return nil, fmt.Errorf("index.json is damaged: %v", err)
		}
		for _, m := range scan.index.Manifests {
			if err := m.Digest.Validate(); err != nil {
				return nil, fmt.Errorf("index.json is damaged: %v", err)
			}
			if blob := blobPath(m.Digest); !scan.files[blob] {
				return nil, fmt.Errorf("archive is incomplete: %s, listed in index.json, is missing", blob)
			}
		}
	default:
		return nil, errors.New("neither a docker archive (no manifest.json) nor an OCI archive (no index.json)")
	}
	return scan, nil
}

// blobPath is where an OCI layout keeps a blob.
func blobPath(d digest.Digest) string {
	return path.Join("blobs", d.Algorithm().String(), d.Encoded())
}

// archiveReadError explains a read failure: a stream that ends early is
// what a truncated download or copy looks like.
func archiveReadError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("archive is truncated (unexpected end of file)")
	}
	return fmt.Errorf("archive is damaged: %v", err)
}

// extractLayout unpacks an OCI archive into dir, which it creates. Only
// directories and regular files are kept, and nothing is written outside
// dir (os.Root refuses "../" and symbolic links that leave it).
func extractLayout(r io.Reader, dir string) (*os.Root, error) {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	if err := extractInto(root, r); err != nil {
		root.Close()
		return nil, err
	}
	return root, nil
}

func extractInto(root *os.Root, r io.Reader) error {
	stream, _, err := compression.AutoDecompress(r)
	if err != nil {
		return err
	}
	defer stream.Close()
	tr := tar.NewReader(stream)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return archiveReadError(err)
		}
		name := path.Clean(strings.TrimPrefix(hdr.Name, "/"))
		if name == "." {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = root.MkdirAll(name, 0o700)
		case tar.TypeReg:
			err = extractFile(root, name, tr)
		}
		if err != nil {
			return fmt.Errorf("extracting %s: %w", name, err)
		}
	}
}

func extractFile(root *os.Root, name string, r io.Reader) error {
	if err := root.MkdirAll(path.Dir(name), 0o700); err != nil {
		return err
	}
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return archiveReadError(err)
	}
	return f.Close()
}
