package cmd

import (
	"fmt"
	"slices"

	"github.com/moby/moby/api/types/container"
	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
)

func updateFlags() []cli.Flag {
	return []cli.Flag{
		stringOpt("blkio-weight", "", "block IO (relative `WEIGHT`), between 10 and 1000, or 0 to disable"),
		stringOpt("cpu-period", "", "limit CPU CFS (Completely Fair Scheduler) `PERIOD` in µs"),
		stringOpt("cpu-quota", "", "limit CPU CFS (Completely Fair Scheduler) `QUOTA` in µs"),
		stringOpt("cpu-shares", "c", "CPU `SHARES` (relative weight)"),
		stringOpt("cpus", "", "number of `CPUS`"),
		stringOpt("cpuset-cpus", "", "`CPUS` in which to allow execution (0-3, 0,1)"),
		stringOpt("cpuset-mems", "", "`MEMS` in which to allow execution (0-3, 0,1)"),
		stringOpt("memory", "m", "memory `LIMIT`"),
		stringOpt("memory-reservation", "", "memory soft `LIMIT`"),
		stringOpt("memory-swap", "", "swap `LIMIT` equal to memory plus swap: -1 to enable unlimited swap"),
		stringOpt("pids-limit", "", "tune container pids `LIMIT` (set -1 for unlimited)"),
		stringOpt("restart", "", "restart `POLICY` to apply when a container exits"),
	}
}

func updateCommand() *cli.Command {
	return &cli.Command{
		Name:      "update",
		Usage:     "Update configuration of one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Description: "The restart policy always takes effect. Resource limits are recorded and applied at once to a\n" +
			"running container with a cgroup v2 of its own; rootless, that takes systemd delegation (see\n" +
			"`rrun info`). Elsewhere they are recorded, and a warning says they cannot be applied.",
		Flags:  updateFlags(),
		Action: updateAction,
	}
}

func updateAction(c *cli.Context) error {
	cfg, err := parseUpdateConfig(c)
	if err != nil {
		return err
	}
	var warnings []string
	err = eachContainer(c, "update", func(eng *engine.Engine, ref string) error {
		resp, err := eng.Update(c.Context, ref, *cfg)
		if resp != nil {
			for _, w := range resp.Warnings {
				if !slices.Contains(warnings, w) {
					warnings = append(warnings, w)
				}
			}
		}
		return err
	})
	for _, w := range warnings {
		fmt.Fprintf(c.App.ErrWriter, "WARNING: %s\n", w)
	}
	return err
}

// parseUpdateConfig reads update's flags as create reads the same ones.
func parseUpdateConfig(c *cli.Context) (*container.UpdateConfig, error) {
	if c.NumFlags() == 0 {
		return nil, usageError("you must provide one or more flags when using this command\nSee 'rrun update --help'.")
	}
	r := flagReader{c}
	o := &createOptions{Config: &container.Config{}, HostConfig: &container.HostConfig{}}
	if err := r.resources(o, false); err != nil {
		return nil, usageError("%v", err)
	}
	if err := r.restart(o, false); err != nil {
		return nil, usageError("%v", err)
	}
	res := &o.HostConfig.Resources
	var err error
	if res.MemoryReservation, err = r.bytes("memory-reservation"); err != nil {
		return nil, usageError("%v", err)
	}
	if res.CPUPeriod, err = r.int("cpu-period"); err != nil {
		return nil, usageError("%v", err)
	}
	if res.CPUQuota, err = r.int("cpu-quota"); err != nil {
		return nil, usageError("%v", err)
	}
	weight, err := r.int("blkio-weight")
	if err != nil {
		return nil, usageError("%v", err)
	}
	if weight < 0 || weight > 1000 {
		return nil, usageError("Range of blkio weight is from 10 to 1000")
	}
	res.BlkioWeight = uint16(weight)
	res.CpusetMems = r.str("cpuset-mems")
	return &container.UpdateConfig{Resources: *res, RestartPolicy: o.HostConfig.RestartPolicy}, nil
}
