package storage

import (
	"errors"
	"reflect"
	"testing"

	"github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestApplyChangesErrors(t *testing.T) {
	for _, tc := range []struct {
		change string
		want   string
	}{
		{"RUN echo hi", "run is not a valid change command"},
		{"FROM alpine", "from is not a valid change command"},
		{"", "empty change: give a Dockerfile instruction such as CMD or ENV"},
		{"CMD", "CMD requires at least one argument"},
		{"ENV", "ENV requires at least one argument"},
		{"ENV FOO", "ENV must have two arguments"},
		{"ENV A=1 B", `ENV: syntax error - can't find = in "B". Must be of the form: name=value`},
		{"ENV =x", "ENV names can not be blank"},
		{`ENV A="unterminated`, "unexpected end of statement while looking for matching \" in \"unterminated"},
		{"LABEL", "LABEL requires at least one argument"},
		{"EXPOSE", "EXPOSE requires at least one argument"},
		{"EXPOSE http", "invalid containerPort: http"},
		{"EXPOSE 80/icmp", "invalid proto: icmp"},
		{"EXPOSE 90-80", "invalid containerPort: 90-80"},
		{"USER", "USER requires exactly one argument"},
		{"STOPSIGNAL SIGNOPE", "invalid signal: SIGNOPE"},
		{"VOLUME", "VOLUME requires at least one argument"},
		{`VOLUME [""]`, "VOLUME specified can not be an empty string"},
		{"ENV X=${Y", "missing '}' in ${Y"},
	} {
		t.Run(tc.change, func(t *testing.T) {
			var cfg dockerspec.DockerOCIImageConfig
			err := ApplyChanges(&cfg, []string{tc.change})
			if err == nil {
				t.Fatalf("no error, config %+v", cfg)
			}
			if err.Error() != tc.want {
				t.Errorf("error %q, want %q", err, tc.want)
			}
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("error %q is not an invalid argument", err)
			}
		})
	}
}

func TestApplyChanges(t *testing.T) {
	base := func() dockerspec.DockerOCIImageConfig {
		return dockerspec.DockerOCIImageConfig{ImageConfig: ocispec.ImageConfig{
			Env:        []string{"PATH=/usr/bin:/bin", "HOME=/root"},
			Cmd:        []string{"/bin/sh"},
			WorkingDir: "/srv",
		}}
	}
	ports := func(p ...string) map[string]struct{} {
		m := map[string]struct{}{}
		for _, x := range p {
			m[x] = struct{}{}
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		changes []string
		check   func(c dockerspec.DockerOCIImageConfig) any // the part compared
		want    any
	}{
		{"CMD JSON", []string{`CMD ["echo", "hi there"]`},
			func(c dockerspec.DockerOCIImageConfig) any { return c.Cmd }, []string{"echo", "hi there"}},
		{"CMD shell form", []string{`CMD echo "$HOME"`},
			func(c dockerspec.DockerOCIImageConfig) any { return c.Cmd }, []string{"/bin/sh", "-c", `echo "$HOME"`}},
		{"CMD bad JSON is shell form", []string{`CMD [not json]`},
			func(c dockerspec.DockerOCIImageConfig) any { return c.Cmd }, []string{"/bin/sh", "-c", "[not json]"}},
		{"CMD empty array", []string{`CMD []`},
			func(c dockerspec.DockerOCIImageConfig) any { return c.Cmd }, []string{}},
		{"lower-case instruction", []string{`cmd ["true"]`},
			func(c dockerspec.DockerOCIImageConfig) any { return c.Cmd }, []string{"true"}},
		{"ENTRYPOINT resets the old CMD", []string{`ENTRYPOINT ["/app"]`},
			func(c dockerspec.DockerOCIImageConfig) any { return [][]string{c.Entrypoint, c.Cmd} }, [][]string{{"/app"}, nil}},
		{"ENTRYPOINT keeps a CMD set before it", []string{`CMD ["--help"]`, `ENTRYPOINT /app`},
			func(c dockerspec.DockerOCIImageConfig) any { return [][]string{c.Entrypoint, c.Cmd} }, [][]string{{"/bin/sh", "-c", "/app"}, {"--help"}}},
		{"ENV pairs with quotes and expansion", []string{`ENV A=1 B="two words" C=${HOME}/x D='$HOME' E=a\ b`},
			func(c dockerspec.DockerOCIImageConfig) any { return c.Env },
			[]string{"PATH=/usr/bin:/bin", "HOME=/root", "A=1", "B=two words", "C=/root/x", "D=$HOME", "E=a b"}},
		{"ENV replaces and sees earlier changes", []string{`ENV PATH=/opt/bin:$PATH`, `ENV X=${PATH:+set} Y=${NOPE:-dflt} Z=${NOPE:+alt}`},
			func(c dockerspec.DockerOCIImageConfig) any { return c.Env },
			[]string{"PATH=/opt/bin:/usr/bin:/bin", "HOME=/root", "X=set", "Y=dflt", "Z="}},
		{"ENV legacy form", []string{`ENV GREETING hello   big world`},
			func(c dockerspec.DockerOCIImageConfig) any { return c.Env[2] }, "GREETING=hello   big world"},
		{"LABEL", []string{`LABEL org.example.a=1 "org.example.b"="x y"`, `LABEL legacy value here`},
			func(c dockerspec.DockerOCIImageConfig) any { return c.Labels },
			map[string]string{"org.example.a": "1", "org.example.b": "x y", "legacy": "value here"}},
		{"EXPOSE", []string{`EXPOSE 80 53/UDP 8000-8002/tcp`},
			func(c dockerspec.DockerOCIImageConfig) any { return c.ExposedPorts },
			ports("80/tcp", "53/udp", "8000/tcp", "8001/tcp", "8002/tcp")},
		{"USER", []string{`USER nobody:nogroup`},
			func(c dockerspec.DockerOCIImageConfig) any { return c.User }, "nobody:nogroup"},
		{"WORKDIR relative to the current one", []string{`WORKDIR app`, `WORKDIR ../data/`},
			func(c dockerspec.DockerOCIImageConfig) any { return c.WorkingDir }, "/srv/data"},
		{"WORKDIR absolute with a variable", []string{`WORKDIR $HOME/work`},
			func(c dockerspec.DockerOCIImageConfig) any { return c.WorkingDir }, "/root/work"},
		{"STOPSIGNAL name", []string{`STOPSIGNAL SIGQUIT`},
			func(c dockerspec.DockerOCIImageConfig) any { return c.StopSignal }, "SIGQUIT"},
		{"STOPSIGNAL short name and number", []string{`STOPSIGNAL TERM`, `STOPSIGNAL 9`},
			func(c dockerspec.DockerOCIImageConfig) any { return c.StopSignal }, "9"},
		{"VOLUME JSON and words", []string{`VOLUME ["/data", "/logs"]`, `VOLUME /cache $HOME/v`},
			func(c dockerspec.DockerOCIImageConfig) any { return c.Volumes },
			ports("/data", "/logs", "/cache", "/root/v")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base()
			if err := ApplyChanges(&cfg, tc.changes); err != nil {
				t.Fatal(err)
			}
			if got := tc.check(cfg); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestApplyChangesUsesImageShell(t *testing.T) {
	cfg := dockerspec.DockerOCIImageConfig{DockerOCIImageConfigExt: dockerspec.DockerOCIImageConfigExt{Shell: []string{"/bin/bash", "-lc"}}}
	if err := ApplyChanges(&cfg, []string{"CMD make test"}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"/bin/bash", "-lc", "make test"}; !reflect.DeepEqual(cfg.Cmd, want) {
		t.Errorf("Cmd %q, want %q", cfg.Cmd, want)
	}
}
