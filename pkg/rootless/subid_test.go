package rootless

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSubIDs(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []IDRange
		wantErr bool
	}{
		{name: "malformed line", content: "alice:100000\n", wantErr: true},
		{name: "zero count", content: "alice:100000:0\n", wantErr: true},
		{name: "other users only", content: "bob:100000:65536\n", want: nil},
		{name: "by name", content: "# comment\nbob:1:2\nalice:100000:65536\n", want: []IDRange{{100000, 65536}}},
		{name: "by uid and name", content: "1000:200000:1000\nalice:300000:10\n", want: []IDRange{{200000, 1000}, {300000, 10}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSubIDs(strings.NewReader(tt.content), "alice", 1000)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMapArgs(t *testing.T) {
	got := mapArgs(1000, []IDRange{{100000, 65536}, {300000, 10}})
	want := []string{"0", "1000", "1", "1", "100000", "65536", "65537", "300000", "10"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("mapArgs = %v, want %v", got, want)
	}
}
