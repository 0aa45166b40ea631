package storage

import (
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/types"
	cstorage "go.podman.io/storage"
)

// BlobEventKind says what happened to one blob of a pull or push.
type BlobEventKind int

const (
	BlobStarted BlobEventKind = iota // the transfer began
	BlobRead                         // Current bytes of Total are through
	BlobDone                         // the whole blob is through
	BlobSkipped                      // the destination already had it
)

// BlobEvent is a layer's progress, for the API's JSON progress stream.
// The image configuration is not reported, as docker does not show it.
type BlobEvent struct {
	Kind    BlobEventKind
	Digest  digest.Digest
	Current int64 // bytes through so far
	Total   int64 // the blob's size; 0 or less when unknown
}

// ID is the short form docker's progress lines use: 12 hex digits.
func (e BlobEvent) ID() string { return shortID(e.Digest.Encoded()) }

// blobProgressInterval is how often a blob in transfer is reported.
const blobProgressInterval = 200 * time.Millisecond

// blobProgress turns containers/image's progress channel into calls of fn
// (in one goroutine, in order). It returns the channel and interval for
// copy.Options, both zero when fn is nil, and a function that waits for
// the last event to be handled: call it once the copy returned.
func blobProgress(fn func(BlobEvent)) (chan types.ProgressProperties, time.Duration, func()) {
	if fn == nil {
		return nil, 0, func() {}
	}
	ch := make(chan types.ProgressProperties, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range ch {
			if isConfigMediaType(p.Artifact.MediaType) {
				continue
			}
			ev := BlobEvent{Digest: p.Artifact.Digest, Current: int64(p.Offset), Total: p.Artifact.Size}
			switch p.Event {
			case types.ProgressEventNewArtifact:
				ev.Kind = BlobStarted
			case types.ProgressEventRead:
				ev.Kind = BlobRead
			case types.ProgressEventDone:
				ev.Kind = BlobDone
			case types.ProgressEventSkipped:
				ev.Kind = BlobSkipped
			default:
				continue
			}
			fn(ev)
		}
	}()
	return ch, blobProgressInterval, func() {
		close(ch)
		<-done
	}
}

// isConfigMediaType tells an image configuration from a layer.
func isConfigMediaType(mt string) bool {
	return strings.Contains(mt, "config") || strings.Contains(mt, "container.image")
}

// toplevelDigest is the digest of the manifest a pull started from: the
// list's, which the store keeps beside the instance's, for a
// multi-platform image; else the copied manifest's.
func (s *Store) toplevelDigest(img *cstorage.Image, copied []byte) digest.Digest {
	instance, err := manifest.Digest(copied)
	if err != nil {
		return ""
	}
	for _, d := range img.Digests {
		if d == instance {
			continue
		}
		data, err := s.cs.ImageBigData(img.ID, "manifest-"+d.String())
		if err == nil && manifest.MIMETypeIsMultiImage(manifest.GuessMIMEType(data)) {
			return d
		}
	}
	return instance
}
