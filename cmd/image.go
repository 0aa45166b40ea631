package cmd

import "github.com/urfave/cli/v2"

// imageCommand groups the image commands under `rrun image`, as docker's
// management commands do; the short forms (pull, images, rmi, tag) stay.
func imageCommand() *cli.Command {
	return &cli.Command{
		Name:  "image",
		Usage: "Manage images",
		Subcommands: []*cli.Command{
			{Name: "ls", Aliases: []string{"list"}, Usage: "List images", ArgsUsage: "[REPOSITORY[:TAG]]", Flags: imagesFlags(), Action: imagesAction},
			{Name: "pull", Usage: "Download an image from a registry", ArgsUsage: "NAME[:TAG|@DIGEST]", Flags: pullFlags(), Action: pullAction},
			{Name: "rm", Aliases: []string{"remove"}, Usage: "Remove one or more images", ArgsUsage: "IMAGE [IMAGE...]", Flags: rmiFlags(), Action: rmiAction},
			{Name: "tag", Usage: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", ArgsUsage: "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", Action: tagAction},
			imageMountCommand(), imageUnmountCommand(),
			pushCommand(), saveCommand(), loadCommand(), importCommand(), historyCommand(), imagePruneCommand(),
			{Name: "inspect", Usage: "Display detailed information on one or more images", ArgsUsage: "IMAGE [IMAGE...]", Flags: inspectFlags(), Action: imageInspectAction},
		},
	}
}
