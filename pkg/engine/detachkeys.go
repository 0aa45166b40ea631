package engine

import "strings"

// ParseDetachKeys reads docker's detach keys: comma-separated, each a
// letter or "ctrl-<letter>" (also ctrl-@, ctrl-[, ctrl-\, ctrl-], ctrl-^,
// ctrl-_); empty is the default, ctrl-p,ctrl-q. ok is false for anything
// else; the CLI and the API word that error each as docker does.
func ParseDetachKeys(s string) (keys []byte, ok bool) {
	if s == "" {
		s = "ctrl-p,ctrl-q"
	}
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		if rest, isCtrl := strings.CutPrefix(strings.ToLower(k), "ctrl-"); isCtrl && len(rest) == 1 {
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
		return nil, false
	}
	return keys, true
}
