package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplacesWhole(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secrets")
	if err := WriteBytes(path, 0o600, []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytes(path, 0o600, []byte("second")); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	st, _ := os.Stat(path)
	if string(got) != "second" || st.Mode().Perm() != 0o600 {
		t.Fatalf("%q %v", got, st.Mode())
	}
	assertOnly(t, filepath.Dir(path), "secrets")
}

// A fill that fails halfway leaves the old file as it was and no temporary file.
func TestFailedFillLeavesOldContent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "yealink.tmpl")
	if err := WriteBytes(path, 0o640, []byte("old")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("upload cut off")
	err := Write(path, 0o640, func(w io.Writer) error {
		w.Write([]byte("half of the new"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err %v, want the fill's error", err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != "old" {
		t.Fatalf("%q, want the old content", got)
	}
	assertOnly(t, filepath.Dir(path), "yealink.tmpl")
}

func TestMissingDirectory(t *testing.T) {
	t.Parallel()
	if err := WriteBytes(filepath.Join(t.TempDir(), "no", "such"), 0o600, nil); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err %v, want not-exist", err)
	}
}

func assertOnly(t *testing.T, dir, name string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != name {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("directory holds %v, want only %s", names, name)
	}
}

// A check that refuses the written content leaves no file under the name and no temporary.
func TestCheckRefusal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "nightly.bak")
	bad := errors.New("trailer missing")
	var seen string
	err := WriteChecked(path, 0o600, func(w io.Writer) error {
		_, err := w.Write([]byte("payload"))
		return err
	}, func(r io.ReaderAt, size int64) error {
		b := make([]byte, size)
		r.ReadAt(b, 0)
		seen = string(b)
		return bad
	})
	if !errors.Is(err, bad) || seen != "payload" {
		t.Fatalf("err %v, check saw %q", err, seen)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("directory holds %v after a refused check", entries)
	}
}
