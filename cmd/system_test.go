package cmd

import "testing"

func TestNewDfRow(t *testing.T) {
	for _, tc := range []struct {
		name                             string
		total, active, size, reclaimable int64
		percent                          bool
		want                             dfRow
	}{
		{"empty", 0, 0, 0, 0, true, dfRow{Type: "x", TotalCount: "0", Active: "0", Size: "0B", Reclaimable: "0B"}},
		{"with percent", 3, 1, 2134000, 1067000, true, dfRow{Type: "x", TotalCount: "3", Active: "1", Size: "2.134MB", Reclaimable: "1.067MB (50%)"}},
		{"build cache: no percent", 1, 0, 1000, 1000, false, dfRow{Type: "x", TotalCount: "1", Active: "0", Size: "1kB", Reclaimable: "1kB"}},
	} {
		if got := newDfRow("x", tc.total, tc.active, tc.size, tc.reclaimable, tc.percent); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
