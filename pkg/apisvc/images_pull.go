package apisvc

import (
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/containerd/errdefs"
	"go.podman.io/image/v5/docker/reference"

	"github.com/rrun/rrun/pkg/storage"
)

// createImage is POST /images/create: a pull (fromImage) or an import
// (fromSrc).
func (s *Server) createImage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if src := q.Get("fromSrc"); src != "" {
		return s.importImage(w, r, src)
	}
	from := q.Get("fromImage")
	if from == "" {
		return invalid("fromImage or fromSrc is required")
	}
	name, err := pullName(from, q.Get("tag"))
	if err != nil {
		return err
	}
	opts, err := registryOptions(r)
	if err != nil {
		return err
	}
	stream := newJSONStream(w)
	return stream.finish(s.pull(r, stream, name, opts))
}

// pullName joins fromImage and tag as dockerd does: a tag that is a
// digest makes name@digest. An empty tag means latest (dockerd would
// pull every tag, which rrun does not).
func pullName(from, tag string) (reference.Named, error) {
	name := from
	if tag != "" {
		if strings.Contains(tag, ":") {
			name += "@" + tag
		} else {
			name += ":" + tag
		}
	}
	return storage.ParseReference(name)
}

// pull streams docker's pull messages for one image. "Pulling from"
// goes out with the first layer, after the registry answered for the
// manifest, so that an unknown image is still a plain 404.
func (s *Server) pull(r *http.Request, stream *jsonStream, named reference.Named, ropts storage.RegistryOptions) error {
	tagOrDigest := "latest"
	if t, ok := named.(reference.Tagged); ok {
		tagOrDigest = t.Tag()
	}
	if d, ok := named.(reference.Digested); ok {
		tagOrDigest = d.Digest().String()
	}
	var (
		mu      sync.Mutex
		header  bool
		order   []string // layers in the order they started
		skipped = map[string]bool{}
	)
	begin := func() {
		if !header {
			header = true
			stream.status(tagOrDigest, "Pulling from "+reference.Path(named))
		}
	}
	onBlob := func(ev storage.BlobEvent) {
		mu.Lock()
		defer mu.Unlock()
		begin()
		id := ev.ID()
		switch ev.Kind {
		case storage.BlobStarted:
			order = append(order, id)
			stream.send(streamMessage{ID: id, Status: "Pulling fs layer", ProgressDetail: progressDetailEmpty()})
		case storage.BlobRead:
			stream.send(progressMessage(id, "Downloading", ev.Current, ev.Total))
		case storage.BlobDone:
			stream.send(streamMessage{ID: id, Status: "Verifying Checksum", ProgressDetail: progressDetailEmpty()})
			stream.send(streamMessage{ID: id, Status: "Download complete", ProgressDetail: progressDetailEmpty()})
			stream.send(streamMessage{ID: id, Status: "Extracting", ProgressDetail: progressDetailEmpty()})
		case storage.BlobSkipped:
			skipped[id] = true
			stream.send(streamMessage{ID: id, Status: "Already exists", ProgressDetail: progressDetailEmpty()})
		}
	}
	res, err := s.eng.Images.Pull(r.Context(), named.String(), storage.PullOptions{RegistryOptions: ropts, Blobs: onBlob})
	if err != nil {
		return pullError(named, err)
	}
	mu.Lock()
	defer mu.Unlock()
	begin()
	for _, id := range order {
		if !skipped[id] {
			stream.send(streamMessage{ID: id, Status: "Pull complete", ProgressDetail: progressDetailEmpty()})
		}
	}
	if res.Digest != "" {
		stream.status("", "Digest: "+res.Digest.String())
	}
	shown := reference.FamiliarString(named)
	if res.Updated {
		stream.status("", "Status: Downloaded newer image for "+shown)
	} else {
		stream.status("", "Status: Image is up to date for "+shown)
	}
	return nil
}

// pullError words registry refusals as dockerd does: a repository that
// does not exist or needs a login is a 404 naming 'docker login'.
func pullError(named reference.Named, err error) error {
	msg := strings.ReplaceAll(err.Error(), "'rrun login'", "'docker login'")
	switch {
	case errdefs.IsNotFound(err):
		return errdefs.ErrNotFound.WithMessage(msg)
	case errdefs.IsPermissionDenied(err) && strings.Contains(msg, "pull access denied"):
		return errdefs.ErrNotFound.WithMessage(msg)
	case errdefs.IsInvalidArgument(err):
		return errdefs.ErrInvalidArgument.WithMessage(msg)
	case errdefs.IsUnauthorized(err):
		return errdefs.ErrUnauthenticated.WithMessage(msg)
	case errdefs.IsUnavailable(err):
		return errdefs.ErrUnavailable.WithMessage(msg)
	}
	if msg != err.Error() {
		return errors.New(msg)
	}
	return err
}

// importImage is POST /images/create?fromSrc=: a root filesystem tarball
// from the request body ("-") or a URL becomes an image; the stream ends
// with its id, as dockerd's does.
func (s *Server) importImage(w http.ResponseWriter, r *http.Request, src string) error {
	q := r.URL.Query()
	if src != "-" && !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		src = "http://" + src // dockerd's reading of a bare host/path
	}
	ref := q.Get("repo")
	if ref != "" && q.Get("tag") != "" {
		ref += ":" + q.Get("tag")
	}
	var changes []string
	for _, c := range q["changes"] {
		if c = strings.TrimSpace(c); c != "" {
			changes = append(changes, c)
		}
	}
	id, err := s.eng.Images.Import(r.Context(), src, r.Body, storage.ImportOptions{
		Reference: ref,
		Changes:   changes,
		Message:   q.Get("message"),
		Platform:  q.Get("platform"),
	})
	if err != nil {
		return err
	}
	stream := newJSONStream(w)
	stream.status("", id)
	return nil
}
