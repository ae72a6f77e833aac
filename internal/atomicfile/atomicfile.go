package atomicfile

import (
	"io"
	"os"
	"path/filepath"
)

// Write creates or replaces path with what fill writes, with the given mode.
// When fill or any step fails, path is left as it was and the temporary file is
// removed.
func Write(path string, mode os.FileMode, fill func(w io.Writer) error) error {
	return WriteChecked(path, mode, fill, nil)
}

// WriteChecked is Write that, once the content is synced, reads it back through check
// (from its first byte) and renames it into place only when check accepts it.
func WriteChecked(path string, mode os.FileMode, fill func(w io.Writer) error, check func(r io.ReaderAt, size int64) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	err = tmp.Chmod(mode)
	if err == nil {
		err = fill(tmp)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil && check != nil {
		var fi os.FileInfo
		if fi, err = tmp.Stat(); err == nil {
			err = check(tmp, fi.Size())
		}
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// WriteBytes is Write with data as the whole content.
func WriteBytes(path string, mode os.FileMode, data []byte) error {
	return Write(path, mode, func(w io.Writer) error { _, err := w.Write(data); return err })
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
