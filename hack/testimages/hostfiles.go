package main

import (
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

// librarySearchPath is where Debian's amd64 dynamic loader looks for a
// library that no ld.so.cache names (`ld.so --help`, "system search path"):
// the images have no cache, so each library goes where the loader finds it
// this way, and is looked up in the same order here.
var librarySearchPath = []string{
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib",
}

// sharedLibraries returns what the dynamic executable at program needs to
// run, as absolute paths where the dynamic loader of an image without
// ld.so.cache looks for them: its interpreter (PT_INTERP, e.g.
// /lib64/ld-linux-x86-64.so.2) and the DT_NEEDED libraries, recursively,
// found in librarySearchPath. Sorted. RPATH and RUNPATH are not followed:
// Debian's packages do not use them.
func sharedLibraries(program string) ([]string, error) {
	f, err := elf.Open(program)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	interp, err := interpreter(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", program, err)
	}
	if interp == "" {
		return nil, fmt.Errorf("%s: not a dynamic executable (no PT_INTERP)", program)
	}

	// libc needs ld-linux-x86-64.so.2 by that name: the loader itself,
	// which it already is once running.
	found := map[string]string{path.Base(interp): interp} // soname -> path
	queue := []string{program}
	for len(queue) > 0 {
		file := queue[0]
		queue = queue[1:]
		needed, err := neededLibraries(file, f.Class, f.Machine)
		if err != nil {
			return nil, err
		}
		for _, soname := range needed {
			if _, ok := found[soname]; ok {
				continue
			}
			lib, err := findLibrary(soname, f.Class, f.Machine)
			if err != nil {
				return nil, fmt.Errorf("%s (needed by %s): %w", soname, file, err)
			}
			found[soname] = lib
			queue = append(queue, lib)
		}
	}

	paths := []string{interp}
	for _, lib := range found {
		paths = append(paths, lib)
	}
	slices.Sort(paths)
	return slices.Compact(paths), nil
}

// interpreter returns the path in f's PT_INTERP program header, "" for a
// static executable.
func interpreter(f *elf.File) (string, error) {
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		data := make([]byte, p.Filesz)
		if _, err := p.ReadAt(data, 0); err != nil {
			return "", fmt.Errorf("reading PT_INTERP: %w", err)
		}
		return strings.TrimRight(string(data), "\x00"), nil
	}
	return "", nil
}

// neededLibraries returns the DT_NEEDED entries of the ELF file at file,
// checking that it is of the given class and machine.
func neededLibraries(file string, class elf.Class, machine elf.Machine) ([]string, error) {
	f, err := elf.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if f.Class != class || f.Machine != machine {
		return nil, fmt.Errorf("%s: %v %v, want %v %v", file, f.Class, f.Machine, class, machine)
	}
	needed, err := f.DynString(elf.DT_NEEDED)
	if err != nil {
		return nil, fmt.Errorf("%s: reading DT_NEEDED: %w", file, err)
	}
	return needed, nil
}

// findLibrary returns the first file named soname in librarySearchPath that
// is an ELF file of the given class and machine, as the loader would pick it
// (it skips those of another architecture too).
func findLibrary(soname string, class elf.Class, machine elf.Machine) (string, error) {
	for _, dir := range librarySearchPath {
		p := path.Join(dir, soname)
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		ok := f.Class == class && f.Machine == machine
		f.Close()
		if ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("not found in %s", strings.Join(librarySearchPath, ":"))
}

// hostFilesLayer is a layer with copies of the host's files at paths
// (absolute), each at the same path, as a regular file with the content and
// permission bits of what the path leads to (symbolic links followed), owned
// by 0:0; their parent directories are 0755 0:0. Ordered by path, so that
// the layer depends on the files only.
func hostFilesLayer(createdBy string, paths []string) (*layer, error) {
	files := slices.Clone(paths)
	slices.Sort(files)
	files = slices.Compact(files)

	var dirs []string
	for _, p := range files {
		if !path.IsAbs(p) {
			return nil, fmt.Errorf("%s: not an absolute path", p)
		}
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			dirs = append(dirs, d[1:])
		}
	}
	slices.Sort(dirs) // a parent sorts before its children
	dirs = slices.Compact(dirs)

	l := newLayer(createdBy)
	for _, d := range dirs {
		l.dir(d, 0o755, 0, 0)
	}
	for _, p := range files {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: not a regular file", p)
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		l.file(p[1:], int64(fi.Mode().Perm()), 0, 0, body)
	}
	return l, nil
}

// errHostProgramMissing is returned by hostProgramLayer for a program that
// is not installed on the host.
var errHostProgramMissing = errors.New("not installed on this host")

// hostProgramLayer is a layer with the host's dynamically linked program
// (at the same path), its loader and every shared library it needs (see
// sharedLibraries and hostFilesLayer). pkg is the Debian package that has
// it, for the error message when it is missing.
func hostProgramLayer(createdBy, program, pkg string) (*layer, error) {
	if _, err := os.Stat(program); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w: install the Debian package %s (hack/setup.sh does)",
			program, errHostProgramMissing, pkg)
	}
	libs, err := sharedLibraries(program)
	if err != nil {
		return nil, err
	}
	return hostFilesLayer(createdBy, append([]string{program}, libs...))
}
