package cmd

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
	"github.com/urfave/cli/v2"

	"github.com/rrun/rrun/pkg/engine"
	"github.com/rrun/rrun/pkg/storage"
)

// docker's network prune confirmation, word for word.
const networkPruneWarning = "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?"

// networkCommand is docker's `network` management command.
func networkCommand() *cli.Command {
	return &cli.Command{
		Name:  "network",
		Usage: "Manage networks",
		Subcommands: []*cli.Command{
			networkConnectCommand(), networkCreateCommand(), networkDisconnectCommand(), networkInspectCommand(),
			networkLsCommand(), networkPruneCommand(), networkRmCommand(),
		},
	}
}

func networkCreateCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "Create a network",
		ArgsUsage: "NETWORK",
		Flags: []cli.Flag{
			stringOpt("driver", "d", "`DRIVER` to manage the network (rrun has bridge)").withDefault("bridge"),
			listOpt("subnet", "", "`SUBNET` in CIDR format (one IPv4, one IPv6)"),
			listOpt("gateway", "", "IPv4 or IPv6 `GATEWAY` for the subnet"),
			boolOpt("internal", "", "restrict external access to the network"),
			boolOpt("ipv6", "", "enable IPv6 (rrun networks always have IPv6 ULA addresses)"),
			boolOpt("attachable", "", "enable manual container attachment (always)"),
			listOpt("label", "", "set metadata on a network: `KEY[=VALUE]`"),
			listOpt("opt", "o", "set driver specific `OPTION`s: allow_host_loopback=true lets containers reach the host's 127.0.0.1 via host.docker.internal; bypass=false keeps their TCP connects on the user-mode stack"),
		},
		Action: networkCreateAction,
	}
}

// networkCreateRequest maps network create's flags to docker's request.
func networkCreateRequest(c *cli.Context) (network.CreateRequest, error) {
	if c.NArg() != 1 {
		return network.CreateRequest{}, usageError("\"network create\" requires exactly 1 argument\nUsage: rrun network create [OPTIONS] NETWORK")
	}
	r := flagReader{c}
	req := network.CreateRequest{
		Name: c.Args().First(), Driver: r.value("driver").get(), Internal: r.on("internal"), Attachable: r.on("attachable"),
		Labels: map[string]string{}, Options: map[string]string{},
	}
	for _, kv := range r.list("label") {
		req.Labels = setKV(req.Labels, kv)
	}
	for _, kv := range r.list("opt") {
		req.Options = setKV(req.Options, kv)
	}
	subnets, gateways := r.list("subnet"), r.list("gateway")
	if len(gateways) > len(subnets) {
		return req, fmt.Errorf("every ip-range or gateway must have a corresponding subnet")
	}
	if len(subnets) > 0 {
		req.IPAM = &network.IPAM{Driver: "default"}
	}
	for i, s := range subnets {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return req, fmt.Errorf("invalid subnet %s: %w", s, err)
		}
		cfg := network.IPAMConfig{Subnet: p}
		if i < len(gateways) {
			if cfg.Gateway, err = netip.ParseAddr(gateways[i]); err != nil {
				return req, fmt.Errorf("invalid gateway %s: %w", gateways[i], err)
			}
		}
		req.IPAM.Config = append(req.IPAM.Config, cfg)
	}
	return req, nil
}

func networkCreateAction(c *cli.Context) error {
	req, err := networkCreateRequest(c)
	if err != nil {
		return err
	}
	return withEngine(c, func(eng *engine.Engine) error {
		resp, err := eng.NetworkCreate(c.Context, req)
		if err != nil {
			return err
		}
		fmt.Fprintln(c.App.Writer, resp.ID)
		return nil
	})
}

func networkInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "Display detailed information on one or more networks",
		ArgsUsage: "NETWORK [NETWORK...]",
		Flags:     inspectFlags()[:1],
		Action: func(c *cli.Context) error {
			return inspectObjects(c, func(eng *engine.Engine, name string) (any, error) {
				n, err := eng.NetworkInspect(c.Context, name)
				if errdefs.IsNotFound(err) {
					return nil, errdefs.ErrNotFound.WithMessage("network " + name + " not found")
				}
				return n, err
			})
		},
	}
}

func networkLsCommand() *cli.Command {
	return &cli.Command{
		Name:    "ls",
		Aliases: []string{"list"},
		Usage:   "List networks",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only display network IDs"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "do not truncate the output"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "provide filter values: driver=, id=, label=, name=, type=custom|builtin, dangling=true|false"},
			&cli.StringFlag{Name: "format", Usage: "format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template"},
		},
		Action: networkLsAction,
	}
}

// networkRow is one line of `rrun network ls`, with docker's field names.
type networkRow struct {
	CreatedAt, Driver, ID, IPv4, IPv6, Internal, Labels, Name, Scope string

	labels map[string]string
}

// Label is docker's {{.Label "key"}}.
func (r networkRow) Label(name string) string { return r.labels[name] }

func newNetworkRow(n network.Summary, noTrunc bool) networkRow {
	var labels []string
	for _, k := range slices.Sorted(maps.Keys(n.Labels)) {
		labels = append(labels, k+"="+n.Labels[k])
	}
	return networkRow{
		CreatedAt: n.Created.Format("2006-01-02 15:04:05.999999999 -0700 MST"), Driver: n.Driver,
		ID: displayID(n.ID, noTrunc), IPv4: fmt.Sprint(n.EnableIPv4), IPv6: fmt.Sprint(n.EnableIPv6),
		Internal: fmt.Sprint(n.Internal), Labels: strings.Join(labels, ","), Name: n.Name, Scope: n.Scope,
		labels: n.Labels,
	}
}

func networkLsAction(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError("\"network ls\" accepts no arguments\nUsage: rrun network ls [OPTIONS]")
	}
	filters, err := storage.ParseFilters(c.StringSlice("filter"))
	if err != nil {
		return err
	}
	return withEngine(c, func(eng *engine.Engine) error {
		nets, err := eng.NetworkList(c.Context, filters)
		if err != nil {
			return err
		}
		slices.SortFunc(nets, func(a, b network.Summary) int { return strings.Compare(a.Name, b.Name) })
		format := c.String("format")
		if c.Bool("quiet") {
			format = "{{.ID}}"
		}
		f, err := newFormatter(c.App.Writer, format, "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}")
		if err != nil {
			return err
		}
		if err := f.writeHeader(networkRow{CreatedAt: "CREATED AT", Driver: "DRIVER", ID: "NETWORK ID", IPv4: "IPV4", IPv6: "IPV6",
			Internal: "INTERNAL", Labels: "LABELS", Name: "NAME", Scope: "SCOPE"}); err != nil {
			return err
		}
		for _, n := range nets {
			if err := f.row(newNetworkRow(n, c.Bool("no-trunc"))); err != nil {
				return err
			}
		}
		return f.flush()
	})
}

func networkRmCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Aliases:   []string{"remove"},
		Usage:     "Remove one or more networks",
		ArgsUsage: "NETWORK [NETWORK...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not error if the network does not exist"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return usageError("\"network rm\" requires at least 1 argument\nUsage: rrun network rm NETWORK [NETWORK...]")
			}
			return withEngine(c, func(eng *engine.Engine) error {
				failed := false
				for _, name := range c.Args().Slice() {
					err := eng.NetworkRemove(c.Context, name)
					if errdefs.IsNotFound(err) && c.Bool("force") {
						continue
					}
					if err != nil {
						fmt.Fprintf(c.App.ErrWriter, "Error response from daemon: %v\n", err)
						failed = true
						continue
					}
					fmt.Fprintln(c.App.Writer, name)
				}
				if failed {
					return &exitCodeError{code: exitError}
				}
				return nil
			})
		},
	}
}

func networkPruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "Remove all unused networks",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
			&cli.StringSliceFlag{Name: "filter", Usage: "provide filter values (label=<key>[=<value>])"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usageError("\"network prune\" accepts no arguments\nUsage: rrun network prune [OPTIONS]")
			}
			filters, err := storage.ParseFilters(c.StringSlice("filter"))
			if err != nil {
				return err
			}
			return withEngine(c, func(eng *engine.Engine) error {
				if !c.Bool("force") && !confirm(c.App.Reader, c.App.Writer, networkPruneWarning) {
					return nil
				}
				report, err := eng.NetworkPrune(c.Context, filters)
				if report != nil && len(report.NetworksDeleted) > 0 {
					fmt.Fprintln(c.App.Writer, "Deleted Networks:\n"+strings.Join(report.NetworksDeleted, "\n"))
				}
				return err
			})
		},
	}
}

func networkConnectCommand() *cli.Command {
	return &cli.Command{
		Name:      "connect",
		Usage:     "Connect a container to a network",
		ArgsUsage: "NETWORK CONTAINER",
		Flags: []cli.Flag{
			listOpt("alias", "", "add network-scoped `ALIAS` for the container"),
			stringOpt("ip", "", "IPv4 `ADDRESS`"),
			stringOpt("ip6", "", "IPv6 `ADDRESS`"),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return usageError("\"network connect\" requires exactly 2 arguments\nUsage: rrun network connect [OPTIONS] NETWORK CONTAINER")
			}
			r := flagReader{c}
			settings := &network.EndpointSettings{Aliases: r.list("alias")}
			ip4, err := r.ipAddr("ip", false)
			if err != nil {
				return err
			}
			ip6, err := r.ipAddr("ip6", true)
			if err != nil {
				return err
			}
			if ip4.IsValid() || ip6.IsValid() {
				settings.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: ip4, IPv6Address: ip6}
			}
			return withEngine(c, func(eng *engine.Engine) error {
				return eng.NetworkConnect(c.Context, c.Args().Get(0), c.Args().Get(1), settings)
			})
		},
	}
}

func networkDisconnectCommand() *cli.Command {
	return &cli.Command{
		Name:      "disconnect",
		Usage:     "Disconnect a container from a network",
		ArgsUsage: "NETWORK CONTAINER",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "force the container to disconnect from a network"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return usageError("\"network disconnect\" requires exactly 2 arguments\nUsage: rrun network disconnect [OPTIONS] NETWORK CONTAINER")
			}
			return withEngine(c, func(eng *engine.Engine) error {
				return eng.NetworkDisconnect(c.Context, c.Args().Get(0), c.Args().Get(1), c.Bool("force"))
			})
		},
	}
}
