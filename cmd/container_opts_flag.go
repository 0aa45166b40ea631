package cmd

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
)

// flagKind says how a containerFlag takes its values.
type flagKind int

const (
	optString flagKind = iota // takes a value; the last one given wins
	optBool                   // takes no value (-i), or an explicit one (--rm=false)
	optList                   // repeatable; each value is kept whole, in order
)

// containerFlag is one flag of docker's run and create, read the way
// docker's CLI (pflag) reads it. urfave's own flags do not fit these
// commands:
//
//   - StringSliceFlag splits each value on commas, which breaks
//     --mount type=bind,src=…, -e A=a,b, --label and --security-opt;
//   - a flag with aliases refuses a mix of spellings ("Cannot use two
//     forms of the same flag" for -e A --env B) and, for a flag given in one
//     spelling only, copies its value into the others by calling Set again,
//     which appends a second time to a list.
//
// So a containerFlag tells urfave it has a single name, and registers its
// other spellings (the one-letter form, a hidden old name such as --net)
// itself, all sharing one value.
type containerFlag struct {
	name   string // the long name: "env"
	short  string // the one-letter name, or "": "e"
	alias  string // a hidden second long name, or "": "net" for --network
	kind   flagKind
	def    string // the default of a string or bool flag
	usage  string // a `PLACEHOLDER` in backquotes names the value in help
	hidden bool

	value *flagValue // this parse's value, made by Apply
}

// Apply registers the flag's spellings for one parse, with a fresh value.
func (f *containerFlag) Apply(set *flag.FlagSet) error {
	f.value = &flagValue{flag: f}
	set.Var(f.value, f.name, f.usage)
	if f.short != "" {
		set.Var(shortFlagValue{f.value}, f.short, f.usage)
	}
	if f.alias != "" {
		set.Var(f.value, f.alias, f.usage)
	}
	return nil
}

// Names is the long name only; see the type's comment.
func (f *containerFlag) Names() []string { return []string{f.name} }

func (f *containerFlag) IsSet() bool     { return f.value != nil && f.value.set }
func (f *containerFlag) IsVisible() bool { return !f.hidden }

// String is the flag's line in --help, laid out as urfave lays out its own
// flags: "--env value, -e value<TAB>usage".
func (f *containerFlag) String() string {
	placeholder, usage := "value", f.usage
	if i := strings.Index(usage, "`"); i >= 0 {
		if j := strings.Index(usage[i+1:], "`"); j >= 0 {
			placeholder = usage[i+1 : i+1+j]
			usage = usage[:i] + placeholder + usage[i+1+j+1:]
		}
	}
	names := []string{"--" + f.name}
	if f.short != "" {
		names = append(names, "-"+f.short)
	}
	if f.kind != optBool {
		for i := range names {
			names[i] += " " + placeholder
		}
	}
	switch {
	case f.kind == optBool && f.def == "true":
		usage += " (default: true)"
	case f.kind == optString && f.def != "":
		usage += fmt.Sprintf(" (default: %q)", f.def)
	}
	return strings.Join(names, ", ") + "\t" + usage
}

// display is the flag as pflag names it in errors: "-e, --env".
func (f *containerFlag) display() string {
	if f.short != "" {
		return "-" + f.short + ", --" + f.name
	}
	return "--" + f.name
}

// flagValue holds what one parse gave a containerFlag.
type flagValue struct {
	flag   *containerFlag
	set    bool
	values []string
}

func (v *flagValue) Set(s string) error {
	if v.flag.kind == optBool {
		if _, err := strconv.ParseBool(s); err != nil {
			return err
		}
	}
	v.values = append(v.values, s)
	v.set = true
	return nil
}

// String is the value as urfave's c.String and c.Bool read it.
func (v *flagValue) String() string {
	if v.flag.kind == optList {
		return strings.Join(v.values, ",")
	}
	return v.get()
}

// IsBoolFlag tells the flag package that a bool flag takes no value.
func (v *flagValue) IsBoolFlag() bool { return v.flag.kind == optBool }

// get is a string flag's value: the last one given, else the default.
func (v *flagValue) get() string {
	if len(v.values) == 0 {
		return v.flag.def
	}
	return v.values[len(v.values)-1]
}

func (v *flagValue) on() bool {
	b, _ := strconv.ParseBool(v.get())
	return b
}

// invalid is pflag's error for a value the flag cannot take.
func (v *flagValue) invalid(value string, err error) error {
	return fmt.Errorf("invalid argument %q for %q flag: %w", value, v.flag.display(), err)
}

// shortFlagValue is a flag's value under its one-letter name. It shows no
// value for a string flag: urfave's help check reads "-h" as a bool, and
// -h is docker's --hostname, so `-h 1` (a valid hostname) must not read as
// a request for help.
type shortFlagValue struct{ *flagValue }

func (s shortFlagValue) String() string {
	if s.flag.kind == optBool {
		return s.flagValue.String()
	}
	return ""
}
