package engine

import (
	"fmt"
	"testing"

	"github.com/moby/moby/api/types/container"
	"go.podman.io/storage/pkg/archive"
)

func TestFilesystemChanges(t *testing.T) {
	tests := []struct {
		name string
		in   []archive.Change
		want string
	}{
		{name: "nothing", in: nil, want: "[]"},
		{
			name: "mount points alone leave no trace",
			in: []archive.Change{
				{Path: "/etc", Kind: archive.ChangeModify},
				{Path: "/etc/hostname", Kind: archive.ChangeAdd},
				{Path: "/etc/hosts", Kind: archive.ChangeAdd},
				{Path: "/etc/resolv.conf", Kind: archive.ChangeAdd},
			},
			want: "[]",
		},
		{
			name: "a real change beside them keeps its directory",
			in: []archive.Change{
				{Path: "/etc", Kind: archive.ChangeModify},
				{Path: "/etc/resolv.conf", Kind: archive.ChangeAdd},
				{Path: "/etc/motd", Kind: archive.ChangeDelete},
			},
			want: "[C /etc D /etc/motd]",
		},
		{
			name: "sorted by path",
			in: []archive.Change{
				{Path: "/tmp/b", Kind: archive.ChangeAdd},
				{Path: "/f", Kind: archive.ChangeAdd},
				{Path: "/tmp", Kind: archive.ChangeModify},
				{Path: "/bin/sh", Kind: archive.ChangeModify},
				{Path: "/bin", Kind: archive.ChangeModify},
			},
			want: "[C /bin C /bin/sh A /f C /tmp A /tmp/b]",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := filesystemChanges(tc.in)
			if got == nil {
				t.Fatal("nil list: docker sends []")
			}
			s := "["
			for i, ch := range got {
				if i > 0 {
					s += " "
				}
				s += fmt.Sprintf("%s %s", ch.Kind, ch.Path)
			}
			if s += "]"; s != tc.want {
				t.Errorf("got %s, want %s", s, tc.want)
			}
		})
	}
	if container.ChangeAdd.String() != "A" || container.ChangeModify.String() != "C" || container.ChangeDelete.String() != "D" {
		t.Error("moby's change kinds print differently")
	}
}

func TestHiddenChanges(t *testing.T) {
	changes := []archive.Change{
		{Path: "/etc", Kind: archive.ChangeModify},
		{Path: "/etc/hosts", Kind: archive.ChangeAdd},
		{Path: "/f", Kind: archive.ChangeAdd},
	}
	if got := fmt.Sprint(hiddenChanges(changes)); got != "[/etc /etc/hosts]" {
		t.Errorf("hidden %s", got)
	}
	if got := hiddenChanges(changes[2:]); len(got) != 0 {
		t.Errorf("hidden %v", got)
	}
}
