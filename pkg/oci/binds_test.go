package oci

import (
	"reflect"
	"testing"

	"github.com/moby/moby/api/types/mount"
)

func TestParseBind(t *testing.T) {
	bind := func(src, dst string, ro bool, prop mount.Propagation) mount.Mount {
		return mount.Mount{Type: mount.TypeBind, Source: src, Target: dst, ReadOnly: ro,
			BindOptions: &mount.BindOptions{CreateMountpoint: true, Propagation: prop}}
	}
	tests := []struct {
		spec    string
		want    mount.Mount
		wantErr string
	}{
		{spec: "", wantErr: "invalid volume specification: ''"},
		{spec: ":/x", wantErr: "invalid volume specification: ':/x'"},
		{spec: "/a:/b:ro:extra", wantErr: "invalid volume specification: '/a:/b:ro:extra'"},
		{spec: "/a:ro", wantErr: "invalid volume specification: '/a:ro'"},
		{spec: "/a:", wantErr: "invalid volume specification: '/a:'"},
		{spec: "/a:/b:xyz", wantErr: "invalid mode: xyz"},
		{spec: "/a:/b:ro,rw", wantErr: "invalid mode: ro,rw"},
		{spec: "/a:/b:z,Z", wantErr: "invalid mode: z,Z"},
		{spec: "/a:/b:shared,slave", wantErr: "invalid mode: shared,slave"},
		{spec: "/a:/", wantErr: `invalid volume specification: '/a:/': invalid mount config for type "bind": invalid specification: destination can't be '/'`},
		{spec: "/a:b", wantErr: `invalid mount config for type "bind": invalid mount path: 'b' mount path must be absolute`},
		{spec: "vol:/x:rshared", wantErr: `invalid mount config for type "volume": field BindOptions must not be specified`},
		{spec: "/a:/b:nocopy", wantErr: `invalid mount config for type "bind": field VolumeOptions must not be specified`},
		{spec: "data", wantErr: `invalid mount config for type "volume": invalid mount path: 'data' mount path must be absolute`},
		{spec: "/a:/b", want: bind("/a", "/b", false, "")},
		{spec: "/a:/b:ro", want: bind("/a", "/b", true, "")},
		{spec: "/a:/b:rw,z", want: bind("/a", "/b", false, "")},
		{spec: "/a:/b:Z,ro,rslave,cached", want: bind("/a", "/b", true, mount.PropagationRSlave)},
		{spec: "/a/../c/:/b/./d/", want: bind("/c", "/b/d", false, "")},
		{spec: "vol:/x", want: mount.Mount{Type: mount.TypeVolume, Source: "vol", Target: "/x"}},
		{spec: "vol:/x:nocopy,ro", want: mount.Mount{Type: mount.TypeVolume, Source: "vol", Target: "/x", ReadOnly: true,
			VolumeOptions: &mount.VolumeOptions{NoCopy: true}}},
		{spec: "/data", want: mount.Mount{Type: mount.TypeVolume, Target: "/data"}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseBind(tt.spec)
			checkErr(t, err, tt.wantErr)
			if err == nil && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("mount = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestValidateMount(t *testing.T) {
	tests := []struct {
		name    string
		m       mount.Mount
		wantErr string
	}{
		{name: "no type", m: mount.Mount{Target: "/x"}, wantErr: "mount type unknown"},
		{name: "npipe", m: mount.Mount{Type: mount.TypeNamedPipe, Source: "/a", Target: "/x"}, wantErr: `mount type "npipe" is not supported`},
		{name: "no target", m: mount.Mount{Type: mount.TypeTmpfs}, wantErr: "field Target must not be empty"},
		{name: "bind without source", m: mount.Mount{Type: mount.TypeBind, Target: "/x"}, wantErr: "field Source must not be empty"},
		{name: "bind relative source", m: mount.Mount{Type: mount.TypeBind, Source: "a", Target: "/x"}, wantErr: "'a' mount path must be absolute"},
		{name: "bind bad propagation", m: mount.Mount{Type: mount.TypeBind, Source: "/a", Target: "/x",
			BindOptions: &mount.BindOptions{Propagation: "sideways"}}, wantErr: "invalid propagation mode: sideways"},
		{name: "bind with tmpfs options", m: mount.Mount{Type: mount.TypeBind, Source: "/a", Target: "/x",
			TmpfsOptions: &mount.TmpfsOptions{}}, wantErr: "field TmpfsOptions must not be specified"},
		{name: "read-only anonymous volume", m: mount.Mount{Type: mount.TypeVolume, Target: "/x", ReadOnly: true},
			wantErr: "must not set ReadOnly mode when using anonymous volumes"},
		{name: "subpath escaping", m: mount.Mount{Type: mount.TypeVolume, Source: "v", Target: "/x",
			VolumeOptions: &mount.VolumeOptions{Subpath: "../up"}}, wantErr: "subpath must be a relative path within the volume"},
		{name: "other volume driver", m: mount.Mount{Type: mount.TypeVolume, Source: "v", Target: "/x",
			VolumeOptions: &mount.VolumeOptions{DriverConfig: &mount.Driver{Name: "nfs"}}}, wantErr: `volume driver "nfs" is not supported`},
		{name: "tmpfs with source", m: mount.Mount{Type: mount.TypeTmpfs, Source: "x", Target: "/x"}, wantErr: "field Source must not be specified"},
		{name: "tmpfs bad option", m: mount.Mount{Type: mount.TypeTmpfs, Target: "/x",
			TmpfsOptions: &mount.TmpfsOptions{Options: [][]string{{"bogus"}}}}, wantErr: `invalid tmpfs option "bogus"`},
		{name: "bind", m: mount.Mount{Type: mount.TypeBind, Source: "/a", Target: "/x"}},
		{name: "named volume", m: mount.Mount{Type: mount.TypeVolume, Source: "v", Target: "/x", ReadOnly: true}},
		{name: "tmpfs", m: mount.Mount{Type: mount.TypeTmpfs, Target: "/x", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1 << 20}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, ValidateMount(tt.m), tt.wantErr)
		})
	}
}
