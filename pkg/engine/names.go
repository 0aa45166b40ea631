package engine

import (
	"crypto/rand"
	"encoding/hex"
	"math/big"
	"regexp"

	"github.com/containerd/errdefs"
)

// validName is docker's rule for container names.
var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

func checkName(name string) error {
	if !validName.MatchString(name) {
		return errdefs.ErrInvalidArgument.WithMessage("Invalid container name (" + name + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
	}
	return nil
}

// newID is a random 64-hex container id, as docker's.
func newID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

// Words for generated names, docker-style adjective_noun. The nouns are
// people who shaped operating systems and networks.
var (
	nameAdjectives = []string{
		"agile", "bold", "brave", "calm", "clever", "cool", "eager", "fervent", "gentle", "happy",
		"jolly", "keen", "kind", "lucid", "merry", "modest", "nimble", "quiet", "sharp", "sleepy",
		"stoic", "sweet", "tender", "upbeat", "vibrant", "wise", "witty", "zealous", "focused", "serene",
	}
	nameNouns = []string{
		"ritchie", "thompson", "kernighan", "torvalds", "hopper", "lovelace", "cerf", "kahn", "postel",
		"dijkstra", "knuth", "lamport", "liskov", "hamilton", "tanenbaum", "mckusick", "joy", "pike",
		"bellard", "allen", "backus", "perlman", "wirth", "hoare", "lampson", "corbato", "engelbart",
		"shannon", "turing", "babbage",
	}
)

func randomName() string {
	pick := func(words []string) string {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(words))))
		if err != nil {
			panic(err)
		}
		return words[n.Int64()]
	}
	return pick(nameAdjectives) + "_" + pick(nameNouns)
}
