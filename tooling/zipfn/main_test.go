package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestPackKeepsExecBitAndIsReproducible(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "fn")
	if err := os.MkdirAll(filepath.Join(src, "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "bootstrap"), []byte("#!binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "conf", "a.txt"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	out1 := filepath.Join(dir, "1.zip")
	out2 := filepath.Join(dir, "2.zip")
	for _, out := range []string{out1, out2} {
		if err := pack(out, src); err != nil {
			t.Fatalf("pack: %v", err)
		}
	}
	b1, _ := os.ReadFile(out1)
	b2, _ := os.ReadFile(out2)
	if !bytes.Equal(b1, b2) {
		t.Error("two packs of the same directory differ")
	}
	zr, err := zip.OpenReader(out1)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	want := map[string]os.FileMode{"bootstrap": 0o755, "conf/a.txt": 0o644}
	if len(zr.File) != len(want) {
		t.Fatalf("got %d entries, want %d", len(zr.File), len(want))
	}
	for _, f := range zr.File {
		mode, ok := want[f.Name]
		if !ok {
			t.Errorf("unexpected entry %q", f.Name)
			continue
		}
		if got := f.Mode().Perm(); got != mode {
			t.Errorf("%s: mode %v, want %v", f.Name, got, mode)
		}
		if f.Name == "bootstrap" {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(rc)
			rc.Close()
			if string(body) != "#!binary" {
				t.Errorf("bootstrap body %q", body)
			}
		}
	}
}

func TestPackEmptyDirFails(t *testing.T) {
	dir := t.TempDir()
	if err := pack(filepath.Join(dir, "x.zip"), t.TempDir()); err == nil {
		t.Fatal("packing an empty directory succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "x.zip")); !os.IsNotExist(err) {
		t.Errorf("output exists after failure: %v", err)
	}
}
