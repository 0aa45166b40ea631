package cmd

import "github.com/rrun/rrun/pkg/engine"

// parseDetachKeys reads --detach-keys (engine.ParseDetachKeys), with the
// docker CLI's error.
func parseDetachKeys(s string) ([]byte, error) {
	keys, ok := engine.ParseDetachKeys(s)
	if !ok {
		return nil, usageError("invalid detach keys (%s) provided", s)
	}
	return keys, nil
}
