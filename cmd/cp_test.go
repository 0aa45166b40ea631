package cmd

import "testing"

func TestSplitCpArg(t *testing.T) {
	tests := []struct{ arg, container, path string }{
		{"", "", ""},
		{"/abs:with:colons", "", "/abs:with:colons"},
		{"./file:name.txt", "", "./file:name.txt"},
		{"../up:x", "", "../up:x"},
		{"local", "", "local"},
		{"c1:/etc/passwd", "c1", "/etc/passwd"},
		{"c1:etc", "c1", "etc"},
		{"c1:", "c1", ""},
		{"-", "", "-"},
	}
	for _, tc := range tests {
		c, p := splitCpArg(tc.arg)
		if c != tc.container || p != tc.path {
			t.Errorf("%q: (%q, %q), want (%q, %q)", tc.arg, c, p, tc.container, tc.path)
		}
	}
}
