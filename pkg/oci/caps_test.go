package oci

import (
	"reflect"
	"slices"
	"testing"
)

func TestCapabilities(t *testing.T) {
	defaults := DefaultCapabilities()
	without := func(drop ...string) []string {
		return slices.DeleteFunc(DefaultCapabilities(), func(c string) bool { return slices.Contains(drop, c) })
	}
	tests := []struct {
		name       string
		add, drop  []string
		privileged bool
		want       []string
		wantErr    string
	}{
		{name: "unknown add", add: []string{"FLY"}, wantErr: `unknown capability: "CAP_FLY"`},
		{name: "unknown drop", drop: []string{"cap_fly"}, wantErr: `unknown capability: "CAP_FLY"`},
		{name: "defaults", want: defaults},
		{name: "add without prefix, any case", add: []string{"sys_admin"}, want: append(DefaultCapabilities(), "CAP_SYS_ADMIN")},
		{name: "add with prefix", add: []string{"CAP_NET_ADMIN"}, want: append(DefaultCapabilities(), "CAP_NET_ADMIN")},
		{name: "add a default again", add: []string{"chown"}, want: defaults},
		{name: "drop", drop: []string{"NET_RAW", "cap_mknod"}, want: without("CAP_NET_RAW", "CAP_MKNOD")},
		{name: "drop ALL", drop: []string{"all"}, want: nil},
		{name: "drop ALL, add some", drop: []string{"ALL"}, add: []string{"chown", "KILL"}, want: []string{"CAP_CHOWN", "CAP_KILL"}},
		{name: "add ALL", add: []string{"ALL"}, want: AllCapabilities()},
		{
			name: "add ALL, drop some", add: []string{"ALL"}, drop: []string{"SYS_ADMIN"},
			want: slices.DeleteFunc(AllCapabilities(), func(c string) bool { return c == "CAP_SYS_ADMIN" }),
		},
		{name: "privileged ignores the rest", privileged: true, drop: []string{"ALL"}, want: AllCapabilities()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Capabilities(tt.add, tt.drop, tt.privileged)
			checkErr(t, err, tt.wantErr)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("caps = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAllCapabilities(t *testing.T) {
	all := AllCapabilities()
	if !hasAll(all, DefaultCapabilities()...) || !hasAll(all, "CAP_SYS_ADMIN", "CAP_NET_ADMIN") {
		t.Skipf("this process lacks some common capabilities in its bounding set: %v", all)
	}
}

func TestWithCapabilities(t *testing.T) {
	in := testInput(t)
	in.HostConfig.CapAdd = []string{"NET_ADMIN"}
	s, err := apply(in, WithCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	c := s.Process.Capabilities
	want := append(DefaultCapabilities(), "CAP_NET_ADMIN")
	if !reflect.DeepEqual(c.Bounding, want) || !reflect.DeepEqual(c.Effective, want) || !reflect.DeepEqual(c.Permitted, want) {
		t.Fatalf("capabilities = %+v", c)
	}
	if len(c.Inheritable) != 0 || len(c.Ambient) != 0 {
		t.Fatalf("inheritable %v, ambient %v: docker leaves them empty", c.Inheritable, c.Ambient)
	}
}
