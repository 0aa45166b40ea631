package apisvc

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/registry"

	"github.com/rrun/rrun/pkg/engine"
	"github.com/rrun/rrun/pkg/storage"
)

func (s *Server) history(w http.ResponseWriter, r *http.Request, name string) error {
	h, err := s.eng.Images.History(r.Context(), name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h)
}

// tag is POST /images/{name}/tag?repo=&tag=: 201, no body.
func (s *Server) tag(w http.ResponseWriter, r *http.Request, name string) error {
	q := r.URL.Query()
	repo, tag := q.Get("repo"), q.Get("tag")
	if repo == "" {
		return invalid("repository name must have at least one component")
	}
	target := repo
	if tag != "" {
		target += ":" + tag
	}
	if err := s.eng.Images.Tag(r.Context(), name, target); err != nil {
		return err
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

// removeImage is DELETE /images/{name}?force=&noprune=: docker's list of
// what was untagged and deleted. rrun keeps no parent images, so noprune
// changes nothing.
func (s *Server) removeImage(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	resp, err := s.eng.Images.Remove(r.Context(), name, storage.RemoveOptions{Force: boolValue(r, "force")})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, resp)
}

// pruneImages is POST /images/prune?filters=: dangling images, or all
// unused ones with dangling=false.
func (s *Server) pruneImages(w http.ResponseWriter, r *http.Request) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	report, err := s.eng.Images.Prune(r.Context(), storage.PruneOptions{Filters: storage.Filters(f)})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, report)
}

// saveImages is GET /images/get?names=a&names=b.
func (s *Server) saveImages(w http.ResponseWriter, r *http.Request) error {
	var names []string
	for _, n := range r.URL.Query()["names"] {
		names = append(names, strings.Split(n, ",")...)
	}
	return s.save(w, r, names)
}

// save streams a docker-archive tar. The store writes the archive whole
// before sending it, so a missing image is still a 404.
func (s *Server) save(w http.ResponseWriter, r *http.Request, names []string) error {
	out := &lazyTar{w: w}
	err := s.eng.Images.Save(r.Context(), names, storage.SaveOptions{Format: storage.FormatDockerArchive, Writer: out})
	if err != nil && !out.started {
		return err
	}
	if !out.started {
		out.start()
	}
	return nil
}

// lazyTar sends the tar's 200 and headers with its first bytes.
type lazyTar struct {
	w       http.ResponseWriter
	started bool
}

func (t *lazyTar) start() {
	t.started = true
	t.w.Header().Set("Content-Type", "application/x-tar")
	t.w.WriteHeader(http.StatusOK)
}

func (t *lazyTar) Write(p []byte) (int, error) {
	if !t.started {
		t.start()
	}
	return t.w.Write(p)
}

// loadImages is POST /images/load?quiet=: the archive in the body; the
// answer is a JSON stream of "Loaded image: …" lines (rrun has no load
// progress to show, so quiet changes nothing).
func (s *Server) loadImages(w http.ResponseWriter, r *http.Request) error {
	loaded, err := s.eng.Images.Load(r.Context(), r.Body, storage.LoadOptions{Source: "stdin"})
	if err != nil && len(loaded) == 0 {
		return err
	}
	stream := newJSONStream(w)
	for _, img := range loaded {
		for _, m := range img.Moved {
			stream.send(streamMessage{Stream: fmt.Sprintf("The image %s already exists, renaming the old one with ID %s to empty string\n", m.Tag, m.FromID)})
		}
		if len(img.Tags) == 0 {
			stream.send(streamMessage{Stream: "Loaded image ID: " + img.ID + "\n"})
		}
		for _, t := range img.Tags {
			stream.send(streamMessage{Stream: "Loaded image: " + t + "\n"})
		}
	}
	return stream.finish(err)
}

// push is POST /images/{name}/push?tag=: docker's push stream, ending in
// "TAG: digest: sha256:… size: N" and the aux record the CLI reads.
func (s *Server) push(w http.ResponseWriter, r *http.Request, name string) error {
	ropts, err := registryOptions(r)
	if err != nil {
		return err
	}
	ref := name
	if tag := r.URL.Query().Get("tag"); tag != "" {
		ref += ":" + tag
	}
	named, err := storage.ParseReference(ref)
	if err != nil {
		return err
	}
	stream := newJSONStream(w)
	stream.status("", "The push refers to repository ["+named.Name()+"]")
	onBlob := func(ev storage.BlobEvent) {
		id := ev.ID()
		switch ev.Kind {
		case storage.BlobStarted:
			stream.send(streamMessage{ID: id, Status: "Preparing", ProgressDetail: progressDetailEmpty()})
		case storage.BlobRead:
			stream.send(progressMessage(id, "Pushing", ev.Current, ev.Total))
		case storage.BlobDone:
			stream.send(streamMessage{ID: id, Status: "Pushed", ProgressDetail: progressDetailEmpty()})
		case storage.BlobSkipped:
			stream.send(streamMessage{ID: id, Status: "Layer already exists", ProgressDetail: progressDetailEmpty()})
		}
	}
	res, err := s.eng.Images.Push(r.Context(), named.String(), storage.PushOptions{RegistryOptions: ropts, Blobs: onBlob})
	if err != nil {
		return stream.finish(fmt.Errorf("%s", strings.ReplaceAll(err.Error(), "'rrun login'", "'docker login'")))
	}
	stream.status("", fmt.Sprintf("%s: digest: %s size: %d", res.Tag, res.Digest, res.Size))
	stream.send(streamMessage{ProgressDetail: progressDetailEmpty(), Aux: map[string]any{"Tag": res.Tag, "Digest": res.Digest.String(), "Size": res.Size}})
	return nil
}

// searchImages is GET /images/search: rrun does not search registries.
func (s *Server) searchImages(w http.ResponseWriter, r *http.Request) error {
	return errdefs.ErrNotImplemented.WithMessage("search is not supported by rrun: search on the registry's web site, or list a repository's tags with skopeo list-tags")
}

// commit is POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes=:
// 201 {"Id":"sha256:…"}. The body's container.Config, which docker
// merges into the committed configuration, is read but only its
// presence checked: rrun commits the container's own configuration with
// the changes applied.
func (s *Server) commit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	name := q.Get("container")
	if name == "" {
		return invalid("container is required")
	}
	if r.Body != nil {
		var cfg *container.Config
		if err := json.NewDecoder(r.Body).Decode(&cfg); err != nil && err != io.EOF {
			return invalid("invalid container config: " + err.Error())
		}
	}
	ref := q.Get("repo")
	if ref != "" && q.Get("tag") != "" {
		ref += ":" + q.Get("tag")
	}
	var changes []string
	for _, c := range q["changes"] {
		for _, line := range strings.Split(c, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				changes = append(changes, line)
			}
		}
	}
	pause := true // dockerd's default when the parameter is absent
	if q.Has("pause") {
		pause = boolValue(r, "pause")
	}
	id, err := s.eng.Commit(r.Context(), name, engine.CommitOptions{
		Reference: ref,
		Author:    q.Get("author"),
		Comment:   q.Get("comment"),
		Changes:   changes,
		Pause:     pause,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, container.CommitResponse{ID: id})
}

// auth is POST /auth: the credentials are checked against the registry,
// as `rrun login` does, and not stored (the docker CLI stores them).
func (s *Server) auth(w http.ResponseWriter, r *http.Request) error {
	var cfg registry.AuthConfig
	if err := json.NewDecoder(r.Body).Decode(&cfg); err != nil {
		return invalid("invalid auth config: " + err.Error())
	}
	creds := credentials(cfg)
	if creds == nil {
		return invalid("username and password are required")
	}
	err := storage.CheckLogin(r.Context(), cfg.ServerAddress, storage.LoginOptions{Username: creds.Username, Password: creds.Password})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, registry.AuthResponse{Status: "Login Succeeded"})
}
