package cmd

import (
	"bytes"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/urfave/cli/v2"
)

// parseUpdate runs `rrun update ARGS…` and returns what its flags say.
func parseUpdate(t *testing.T, args ...string) (*container.UpdateConfig, error) {
	t.Helper()
	var got *container.UpdateConfig
	app := &cli.App{Name: "rrun", UseShortOptionHandling: true, Writer: &bytes.Buffer{}, ErrWriter: &bytes.Buffer{},
		Commands: []*cli.Command{{Name: "update", Flags: updateFlags(), Action: func(c *cli.Context) error {
			cfg, err := parseUpdateConfig(c)
			got = cfg
			return err
		}}}}
	err := app.Run(append([]string{"rrun", "update"}, args...))
	return got, err
}

func TestUpdateFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"c1"}, "you must provide one or more flags when using this command\nSee 'rrun update --help'."},
		{[]string{"-m", "lots", "c1"}, `invalid argument "lots" for "-m, --memory" flag: invalid size: 'lots'`},
		{[]string{"--restart", "sometimes", "c1"}, "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"},
		{[]string{"--blkio-weight", "70000", "c1"}, "Range of blkio weight is from 10 to 1000"},
	} {
		if _, err := parseUpdate(t, tc.args...); err == nil || err.Error() != tc.err {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.err)
		}
	}
	cfg, err := parseUpdate(t, "-m", "64m", "--cpus", "1.5", "--pids-limit", "-1", "-c", "512", "--restart", "on-failure:3", "c1")
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Resources
	if r.Memory != 64<<20 || r.NanoCPUs != 15e8 || r.PidsLimit == nil || *r.PidsLimit != -1 || r.CPUShares != 512 ||
		cfg.RestartPolicy != (container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3}) {
		t.Errorf("got %+v %+v", r, cfg.RestartPolicy)
	}
	cfg, err = parseUpdate(t, "--restart", "always", "c1")
	if err != nil || cfg.Resources.Memory != 0 || cfg.Resources.PidsLimit != nil || cfg.RestartPolicy.Name != "always" {
		t.Errorf("restart only: %+v %v", cfg, err)
	}
}
