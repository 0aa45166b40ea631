package cmd

import "strings"

// parseDetachKeys reads docker's --detach-keys: comma-separated keys,
// each a letter or "ctrl-<letter>" (also ctrl-@, ctrl-[, ctrl-\, ctrl-],
// ctrl-^, ctrl-_). The default is ctrl-p,ctrl-q.
func parseDetachKeys(s string) ([]byte, error) {
	if s == "" {
		s = "ctrl-p,ctrl-q"
	}
	var keys []byte
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		if rest, ok := strings.CutPrefix(strings.ToLower(k), "ctrl-"); ok && len(rest) == 1 {
			c := rest[0]
			switch {
			case c >= 'a' && c <= 'z':
				keys = append(keys, c-'a'+1)
				continue
			case strings.IndexByte("@[\\]^_", c) >= 0:
				keys = append(keys, c&0x1f)
				continue
			}
		} else if len(k) == 1 {
			keys = append(keys, k[0])
			continue
		}
		return nil, usageError("invalid detach keys (%s) provided", s)
	}
	return keys, nil
}
