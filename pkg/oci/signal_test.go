package oci

import (
	"syscall"
	"testing"
)

func TestParseSignal(t *testing.T) {
	tests := []struct {
		in      string
		want    syscall.Signal
		wantErr bool
	}{
		{in: "", wantErr: true},
		{in: "0", wantErr: true},
		{in: "-9", wantErr: true},
		{in: "65", wantErr: true},
		{in: "SIGFOO", wantErr: true},
		{in: "RTMIN+31", wantErr: true},
		{in: "RTMAX+1", wantErr: true},
		{in: "SIG", wantErr: true},
		{in: "SIGTERM", want: syscall.SIGTERM},
		{in: "TERM", want: syscall.SIGTERM},
		{in: "term", want: syscall.SIGTERM},
		{in: "sigkill", want: syscall.SIGKILL},
		{in: "15", want: syscall.SIGTERM},
		{in: "9", want: syscall.SIGKILL},
		{in: "SIGWINCH", want: syscall.SIGWINCH},
		{in: "RTMIN", want: 34},
		{in: "SIGRTMIN+3", want: 37},
		{in: "rtmax-1", want: 63},
		{in: "RTMAX", want: 64},
	}
	for _, tt := range tests {
		got, err := ParseSignal(tt.in)
		if tt.wantErr {
			if err == nil || err.Error() != "invalid signal: "+tt.in {
				t.Errorf("%q: %v, %v; want error", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
