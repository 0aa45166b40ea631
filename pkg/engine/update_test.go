package engine

import (
	"testing"

	"github.com/moby/moby/api/types/container"
)

func TestMergeResources(t *testing.T) {
	ptr := func(n int64) *int64 { return &n }
	for _, tc := range []struct {
		name         string
		have, update container.Resources
		want         container.Resources
		set          bool
		err          string
	}{
		{name: "memory above the swap limit", have: container.Resources{Memory: 64 << 20, MemorySwap: 128 << 20}, update: container.Resources{Memory: 256 << 20},
			err: "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time"},
		{name: "cpus after a quota", have: container.Resources{CPUQuota: 50000}, update: container.Resources{NanoCPUs: 1e9},
			err: "Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set"},
		{name: "quota after cpus", have: container.Resources{NanoCPUs: 1e9}, update: container.Resources{CPUQuota: 50000},
			err: "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set"},
		{name: "too little memory", update: container.Resources{Memory: 1 << 20}, err: "Minimum memory limit allowed is 6MB"},
		{name: "nothing", have: container.Resources{Memory: 64 << 20}, want: container.Resources{Memory: 64 << 20}},
		{name: "set fields replace, others stay", have: container.Resources{Memory: 64 << 20, CPUShares: 512},
			update: container.Resources{NanoCPUs: 5e8, PidsLimit: ptr(10)},
			want:   container.Resources{Memory: 64 << 20, CPUShares: 512, NanoCPUs: 5e8, PidsLimit: ptr(10)}, set: true},
		{name: "memory with swap", have: container.Resources{Memory: 64 << 20, MemorySwap: 128 << 20}, update: container.Resources{Memory: 256 << 20, MemorySwap: 512 << 20},
			want: container.Resources{Memory: 256 << 20, MemorySwap: 512 << 20}, set: true},
	} {
		have := tc.have
		set, err := mergeResources(&have, tc.update)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || set != tc.set || have.Memory != tc.want.Memory || have.MemorySwap != tc.want.MemorySwap ||
			have.NanoCPUs != tc.want.NanoCPUs || have.CPUShares != tc.want.CPUShares ||
			(have.PidsLimit == nil) != (tc.want.PidsLimit == nil) || have.PidsLimit != nil && *have.PidsLimit != *tc.want.PidsLimit {
			t.Errorf("%s: got %+v set=%v err=%v", tc.name, have, set, err)
		}
	}
}
