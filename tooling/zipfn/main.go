// Command zipfn packs a Function Compute code directory into a zip file with
// the file modes preserved, so the go1 runtime finds an executable bootstrap.
// It needs nothing but the Go toolchain (no zip package on the machine).
//
//	go run ./tooling/zipfn -o dist/rotate-on-upload.zip dist/rotate-on-upload
//
// Entries are stored relative to the directory (bootstrap at the root of the
// archive), in sorted order with a fixed timestamp, so the same binary gives
// the same zip (and fc3 skips re-uploading unchanged code by checksum).
package main

import (
	"archive/zip"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// fixedTime is the modification time written for every entry.
var fixedTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("o", "", "output zip file")
	flag.Parse()
	if *out == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: zipfn -o out.zip DIR")
		os.Exit(2)
	}
	if err := pack(*out, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "zipfn:", err)
		os.Exit(1)
	}
}

// pack writes every regular file under dir into a new zip at out.
func pack(out, dir string) (err error) {
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("walk %s: %w", dir, err)
	}
	if len(files) == 0 {
		return fmt.Errorf("%s holds no files", dir)
	}
	sort.Strings(files)
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	zw := zip.NewWriter(f)
	for _, p := range files {
		if err := add(zw, dir, p); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// add copies one file into the archive, keeping its permission bits.
func add(zw *zip.Writer, dir, p string) error {
	info, err := os.Stat(p)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return err
	}
	h, err := zip.FileInfoHeader(info)
	if err != nil {
		return err
	}
	h.Name = filepath.ToSlash(rel)
	h.Method = zip.Deflate
	h.Modified = fixedTime
	h.SetMode(info.Mode().Perm())
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	src, err := os.Open(p)
	if err != nil {
		return err
	}
	defer src.Close()
	if _, err := io.Copy(w, src); err != nil {
		return errors.Join(fmt.Errorf("copy %s", p), err)
	}
	return nil
}
