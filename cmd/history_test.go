package cmd

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/image"
)

func TestNewHistoryRow(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	long := "/bin/sh -c #(nop) ADD file:0123456789abcdef0123456789abcdef in /\t"
	item := image.HistoryResponseItem{ID: "sha256:d3faee9d970580ba7c2ad00e690968c562a4eeae221c90613b96d8cec6ebdc30",
		Created: now.Add(-3 * time.Hour).Unix(), CreatedBy: long, Size: 2130944, Comment: "c"}
	for _, tc := range []struct {
		name           string
		item           image.HistoryResponseItem
		human, noTrunc bool
		want           historyRow
	}{
		{"human, truncated", item, true, false, historyRow{ID: "d3faee9d9705", CreatedSince: "3 hours ago",
			CreatedAt: now.Add(-3 * time.Hour).Local().Format(time.RFC3339), CreatedBy: "/bin/sh -c #(nop) ADD file:0123456789abcdef0…", Size: "2.13MB", Comment: "c"}},
		{"raw, whole", item, false, true, historyRow{ID: item.ID,
			CreatedSince: now.Add(-3 * time.Hour).Local().Format(time.RFC3339), CreatedAt: now.Add(-3 * time.Hour).Local().Format(time.RFC3339),
			CreatedBy: strings.ReplaceAll(long, "\t", " "), Size: "2130944", Comment: "c"}},
		{"missing, dated 1970", image.HistoryResponseItem{ID: "<missing>", Created: 0, Size: 0}, true, false,
			historyRow{ID: "<missing>", CreatedSince: "", CreatedAt: time.Unix(0, 0).Format(time.RFC3339), Size: "0B"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := newHistoryRow(tc.item, tc.human, tc.noTrunc, now); got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestHistoryTable(t *testing.T) {
	var buf bytes.Buffer
	f, err := newFormatter(&buf, "", historyTable)
	if err != nil {
		t.Fatal(err)
	}
	f.writeHeader(historyRow{ID: "IMAGE", CreatedSince: "CREATED", CreatedBy: "CREATED BY", Size: "SIZE", Comment: "COMMENT"})
	f.row(historyRow{ID: "d3faee9d9705", CreatedSince: "2 years ago", CreatedBy: "ADD x", Size: "2.13MB"})
	f.flush()
	want := "IMAGE          CREATED       CREATED BY   SIZE      COMMENT\nd3faee9d9705   2 years ago   ADD x        2.13MB    \n"
	if buf.String() != want {
		t.Errorf("got\n%q\nwant\n%q", buf.String(), want)
	}
}

// docker's JSON output keeps "<missing>" readable.
func TestHistoryJSON(t *testing.T) {
	var buf bytes.Buffer
	f, err := newFormatter(&buf, "json", historyTable)
	if err != nil {
		t.Fatal(err)
	}
	f.row(historyRow{ID: "<missing>", Size: "0B"})
	want := `{"Comment":"","CreatedAt":"","CreatedBy":"","CreatedSince":"","ID":"<missing>","Size":"0B"}` + "\n"
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}
