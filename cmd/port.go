package cmd

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/network"
	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
)

func portCommand() *cli.Command {
	return &cli.Command{
		Name:        "port",
		Usage:       "List port mappings or a specific mapping for the container",
		ArgsUsage:   "CONTAINER [PRIVATE_PORT[/PROTO]]",
		Description: "Shows the host addresses that forward to a running container's ports (-p, -P).",
		Action:      portAction,
	}
}

func portAction(c *cli.Context) error {
	if c.NArg() < 1 || c.NArg() > 2 {
		return usageError("\"port\" requires at least 1 and at most 2 arguments\nUsage: rrun port CONTAINER [PRIVATE_PORT[/PROTO]]")
	}
	name, want := c.Args().Get(0), c.Args().Get(1)
	return withEngine(c, func(eng *engine.Engine) error {
		ports, err := eng.Ports(c.Context, name)
		if err != nil {
			return err
		}
		out, err := portLines(ports, name, want)
		if err != nil {
			return err
		}
		if len(out) > 0 {
			fmt.Fprintln(c.App.Writer, strings.Join(out, "\n"))
		}
		return nil
	})
}

// portLines is docker port's output: every mapping ("80/tcp ->
// 0.0.0.0:8080"), or the host addresses of the port asked for, in
// natural order.
func portLines(ports network.PortMap, container, want string) ([]string, error) {
	var out []string
	if want != "" {
		num, proto, _ := strings.Cut(want, "/")
		if proto == "" {
			proto = "tcp"
		}
		if _, err := strconv.ParseUint(num, 10, 16); err != nil {
			return nil, fmt.Errorf("invalid port (%s): %w", num, err)
		}
		port, err := network.ParsePort(num + "/" + proto)
		if err != nil {
			return nil, fmt.Errorf("invalid port (%s): %w", want, err)
		}
		if len(ports[port]) == 0 {
			return nil, fmt.Errorf("No public port '%s' published for %s", want, container) //nolint:staticcheck // docker's wording
		}
		for _, b := range ports[port] {
			out = append(out, net.JoinHostPort(b.HostIP.String(), b.HostPort))
		}
	} else {
		for port, bindings := range ports {
			for _, b := range bindings {
				out = append(out, fmt.Sprintf("%s -> %s", port, net.JoinHostPort(b.HostIP.String(), b.HostPort)))
			}
		}
	}
	slices.SortFunc(out, naturalCompare)
	return out, nil
}

// naturalCompare orders strings with runs of digits compared as numbers
// ("9/tcp" before "10/tcp"), as docker's CLI sorts ports.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, _ := strconv.ParseUint(a[:da], 10, 64)
			nb, _ := strconv.ParseUint(b[:db], 10, 64)
			if na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
