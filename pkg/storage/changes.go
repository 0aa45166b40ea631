package storage

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// ApplyChanges applies Dockerfile instructions, as `docker import
// --change` and `docker commit --change` take them, to an image config, in
// order. Supported: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME,
// WORKDIR and STOPSIGNAL, in docker's syntax (JSON array or shell form,
// key=value pairs, $VAR expansion from the config's own Env).
func ApplyChanges(cfg *dockerspec.DockerOCIImageConfig, changes []string) error {
	cmdSet := false
	for _, c := range changes {
		instr, rest := splitInstruction(c)
		var err error
		switch instr {
		case "cmd":
			cfg.Cmd, err = commandLine(instr, rest, cfg.Shell)
			cmdSet = true
		case "entrypoint":
			cfg.Entrypoint, err = commandLine(instr, rest, cfg.Shell)
			// As in a Dockerfile, ENTRYPOINT resets a CMD that these
			// changes did not set themselves: the old CMD was meant as
			// arguments to the old entrypoint.
			if !cmdSet {
				cfg.Cmd = nil
			}
		case "env":
			err = applyEnv(cfg, rest)
		case "label":
			err = applyLabel(cfg, rest)
		case "expose":
			err = applyExpose(cfg, rest)
		case "user":
			cfg.User, err = singleWord(instr, rest, cfg.Env)
		case "workdir":
			var dir string
			if dir, err = singleWord(instr, rest, cfg.Env); err == nil {
				cfg.WorkingDir = workdir(cfg.WorkingDir, dir)
			}
		case "stopsignal":
			var sig string
			if sig, err = singleWord(instr, rest, cfg.Env); err == nil {
				err = checkSignal(sig)
				cfg.StopSignal = sig
			}
		case "volume":
			err = applyVolume(cfg, rest)
		case "":
			err = errdefs.ErrInvalidArgument.WithMessage("empty change: give a Dockerfile instruction such as CMD or ENV")
		default:
			// docker's words, with the instruction in lower case as its parser keeps it.
			err = errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("%s is not a valid change command", instr))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// splitInstruction cuts "CMD [...]" into the lower-cased instruction and
// the rest of the line.
func splitInstruction(line string) (string, string) {
	line = strings.TrimSpace(line)
	i := strings.IndexAny(line, " \t")
	if i < 0 {
		return strings.ToLower(line), ""
	}
	return strings.ToLower(line[:i]), strings.TrimSpace(line[i+1:])
}

// jsonArgs parses the JSON-array form of an instruction; ok is false when
// rest is not a JSON array of strings, which docker then takes as shell form.
func jsonArgs(rest string) (args []string, ok bool) {
	if !strings.HasPrefix(rest, "[") {
		return nil, false
	}
	if err := json.Unmarshal([]byte(rest), &args); err != nil {
		return nil, false
	}
	if args == nil {
		args = []string{}
	}
	return args, true
}

// commandLine is CMD's and ENTRYPOINT's value: the JSON array as given,
// or the shell form run by the image's shell (default /bin/sh -c).
func commandLine(instr, rest string, shell []string) ([]string, error) {
	if args, ok := jsonArgs(rest); ok {
		return args, nil
	}
	if rest == "" {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("%s requires at least one argument", strings.ToUpper(instr)))
	}
	if len(shell) == 0 {
		shell = []string{"/bin/sh", "-c"}
	}
	return append(append([]string{}, shell...), rest), nil
}

// keyValues parses ENV's and LABEL's arguments: key=value words, values
// quoted as in a shell, or the legacy "key value with spaces" form.
func keyValues(instr, rest string, env []string) ([][2]string, error) {
	words := splitWords(rest)
	if len(words) == 0 {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("%s requires at least one argument", strings.ToUpper(instr)))
	}
	var pairs [][2]string
	if !strings.Contains(words[0], "=") { // legacy: ENV key value
		if len(words) < 2 {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("%s must have two arguments", strings.ToUpper(instr)))
		}
		value := strings.TrimSpace(strings.TrimPrefix(rest, words[0]))
		k, err := expandWord(words[0], env)
		if err != nil {
			return nil, err
		}
		v, err := expandWord(value, env)
		if err != nil {
			return nil, err
		}
		pairs = append(pairs, [2]string{k, v})
	} else {
		for _, w := range words {
			kw, vw, ok := strings.Cut(w, "=")
			if !ok {
				return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("%s: syntax error - can't find = in %q. Must be of the form: name=value", strings.ToUpper(instr), w))
			}
			k, err := expandWord(kw, env)
			if err != nil {
				return nil, err
			}
			v, err := expandWord(vw, env)
			if err != nil {
				return nil, err
			}
			pairs = append(pairs, [2]string{k, v})
		}
	}
	for _, p := range pairs {
		if p[0] == "" {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("%s names can not be blank", strings.ToUpper(instr)))
		}
	}
	return pairs, nil
}

func applyEnv(cfg *dockerspec.DockerOCIImageConfig, rest string) error {
	pairs, err := keyValues("env", rest, cfg.Env)
	if err != nil {
		return err
	}
	for _, p := range pairs {
		cfg.Env = setEnv(cfg.Env, p[0], p[1])
	}
	return nil
}

// setEnv replaces key's entry in env, or appends one.
func setEnv(env []string, key, value string) []string {
	for i, e := range env {
		if k, _, _ := strings.Cut(e, "="); k == key {
			out := append([]string{}, env...)
			out[i] = key + "=" + value
			return out
		}
	}
	return append(env, key+"="+value)
}

func applyLabel(cfg *dockerspec.DockerOCIImageConfig, rest string) error {
	pairs, err := keyValues("label", rest, cfg.Env)
	if err != nil {
		return err
	}
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	for _, p := range pairs {
		cfg.Labels[p[0]] = p[1]
	}
	return nil
}

// applyExpose adds ports: 80, 80/tcp, 53/udp or a range 8000-8010/tcp,
// which docker records port by port.
func applyExpose(cfg *dockerspec.DockerOCIImageConfig, rest string) error {
	words := splitWords(rest)
	if len(words) == 0 {
		return errdefs.ErrInvalidArgument.WithMessage("EXPOSE requires at least one argument")
	}
	if cfg.ExposedPorts == nil {
		cfg.ExposedPorts = map[string]struct{}{}
	}
	for _, w := range words {
		spec, err := expandWord(w, cfg.Env)
		if err != nil {
			return err
		}
		ports, proto, _ := strings.Cut(spec, "/")
		proto = strings.ToLower(proto)
		switch proto {
		case "":
			proto = "tcp"
		case "tcp", "udp", "sctp":
		default:
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid proto: %s", proto))
		}
		first, last, isRange := strings.Cut(ports, "-")
		lo, err1 := strconv.ParseUint(first, 10, 16)
		hi := lo
		var err2 error
		if isRange {
			hi, err2 = strconv.ParseUint(last, 10, 16)
		}
		if err1 != nil || err2 != nil || lo == 0 || hi < lo {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid containerPort: %s", ports))
		}
		for p := lo; p <= hi; p++ {
			cfg.ExposedPorts[fmt.Sprintf("%d/%s", p, proto)] = struct{}{}
		}
	}
	return nil
}

// applyVolume adds mount points, given as a JSON array or as words.
func applyVolume(cfg *dockerspec.DockerOCIImageConfig, rest string) error {
	args, ok := jsonArgs(rest)
	if !ok {
		args = splitWords(rest)
	}
	if len(args) == 0 {
		return errdefs.ErrInvalidArgument.WithMessage("VOLUME requires at least one argument")
	}
	if cfg.Volumes == nil {
		cfg.Volumes = map[string]struct{}{}
	}
	for _, a := range args {
		v := a
		if !ok { // JSON strings are taken literally, words are expanded
			var err error
			if v, err = expandWord(a, cfg.Env); err != nil {
				return err
			}
		}
		if strings.TrimSpace(v) == "" {
			return errdefs.ErrInvalidArgument.WithMessage("VOLUME specified can not be an empty string")
		}
		cfg.Volumes[v] = struct{}{}
	}
	return nil
}

// singleWord is USER's, WORKDIR's and STOPSIGNAL's argument, expanded.
func singleWord(instr, rest string, env []string) (string, error) {
	if rest == "" {
		return "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("%s requires exactly one argument", strings.ToUpper(instr)))
	}
	return expandWord(rest, env)
}

// workdir resolves a WORKDIR against the current one, as docker does.
func workdir(current, dir string) string {
	if !path.IsAbs(dir) {
		if current == "" {
			current = "/"
		}
		dir = path.Join(current, dir)
	}
	return path.Clean(dir)
}

// checkSignal accepts what docker's STOPSIGNAL does: SIGTERM, TERM or 15.
func checkSignal(sig string) error {
	if n, err := strconv.Atoi(sig); err == nil {
		if n > 0 && n <= 64 {
			return nil
		}
	} else {
		name := strings.ToUpper(sig)
		if !strings.HasPrefix(name, "SIG") {
			name = "SIG" + name
		}
		if unix.SignalNum(name) != 0 || strings.HasPrefix(name, "SIGRTMIN") || strings.HasPrefix(name, "SIGRTMAX") {
			return nil
		}
	}
	return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid signal: %s", sig))
}

// splitWords splits at unquoted blanks and keeps quotes and escapes, as
// the Dockerfile parser does before expansion.
func splitWords(s string) []string {
	var words []string
	var b strings.Builder
	var quote rune
	inWord, escaped := false, false
	for _, r := range s {
		switch {
		case escaped:
			escaped = false
		case r == '\\' && quote != '\'':
			escaped = true
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, b.String())
				b.Reset()
				inWord = false
			}
			continue
		}
		b.WriteRune(r)
		inWord = true
	}
	if inWord {
		words = append(words, b.String())
	}
	return words
}

// expandWord removes quotes and escapes and expands $VAR, ${VAR},
// ${VAR:-default} and ${VAR:+alternative} from env, as Dockerfile words
// are processed. Single quotes keep everything literal.
func expandWord(word string, env []string) (string, error) {
	lookup := func(name string) (string, bool) {
		for i := len(env) - 1; i >= 0; i-- {
			if k, v, _ := strings.Cut(env[i], "="); k == name {
				return v, true
			}
		}
		return "", false
	}
	var b strings.Builder
	rs := []rune(word)
	var quote rune
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				b.WriteRune(r)
			}
		case r == '\\' && i+1 < len(rs):
			next := rs[i+1]
			if quote == '"' && next != '"' && next != '\\' && next != '$' {
				b.WriteRune(r) // a backslash before other characters stays in double quotes
			}
			b.WriteRune(next)
			i++
		case r == '"':
			if quote == '"' {
				quote = 0
			} else {
				quote = '"'
			}
		case r == '\'' && quote == 0:
			quote = '\''
		case r == '$':
			value, n, err := expandVariable(rs[i+1:], lookup, env)
			if err != nil {
				return "", err
			}
			b.WriteString(value)
			i += n
		default:
			b.WriteRune(r)
		}
	}
	if quote != 0 {
		return "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("unexpected end of statement while looking for matching %c in %s", quote, word))
	}
	return b.String(), nil
}

// expandVariable expands the variable after a '$' and says how many runes
// of rest it used.
func expandVariable(rest []rune, lookup func(string) (string, bool), env []string) (string, int, error) {
	isName := func(r rune) bool {
		return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}
	if len(rest) == 0 {
		return "$", 0, nil
	}
	if rest[0] != '{' {
		n := 0
		for n < len(rest) && isName(rest[n]) {
			n++
		}
		if n == 0 {
			return "$", 0, nil
		}
		v, _ := lookup(string(rest[:n]))
		return v, n, nil
	}
	end := -1
	for j, r := range rest {
		if r == '}' {
			end = j
			break
		}
	}
	if end < 0 {
		return "", 0, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("missing '}' in ${%s", string(rest[1:])))
	}
	body := string(rest[1:end])
	name, modifier, word := body, "", ""
	if i := strings.Index(body, ":"); i >= 0 && i+1 < len(body) {
		name, modifier, word = body[:i], body[i:i+2], body[i+2:]
	}
	if name == "" || strings.IndexFunc(name, func(r rune) bool { return !isName(r) }) >= 0 {
		return "", 0, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("bad substitution: ${%s}", body))
	}
	v, set := lookup(name)
	switch modifier {
	case "":
	case ":-":
		if !set || v == "" {
			w, err := expandWord(word, env)
			return w, end + 1, err
		}
	case ":+":
		if set && v != "" {
			w, err := expandWord(word, env)
			return w, end + 1, err
		}
		return "", end + 1, nil
	default:
		return "", 0, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("unsupported modifier (%s) in substitution ${%s}", modifier, body))
	}
	return v, end + 1, nil
}
