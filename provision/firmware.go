package provision

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dialtone/dialtone/internal/atomicfile"
	"github.com/dialtone/dialtone/store"
)

// MaxFirmwareBytes bounds one uploaded firmware file (Yealink T58W images are
// about 750 MB).
const MaxFirmwareBytes = 2 << 30

// AddFirmware stores an uploaded firmware file under
// {data}/firmware/{tenant}/{name} (written to a temporary file, hashed with
// SHA-256 while copying, then renamed into place) and records it in the store.
// The admin API declares an interface with this method; cmd/dialtone passes
// the Provisioner. Setting it as a model's target is store.ModelProfile.Firmware;
// staging it for some phones first is ModelProfile.StageFirmware (FirmwareFor).
func (p *Provisioner) AddFirmware(f store.Firmware, body io.Reader) (store.Firmware, error) {
	path, err := p.firmwarePath(f.Tenant, f.Name)
	if err != nil {
		return f, fmt.Errorf("firmware name %q: %w", f.Name, store.ErrInvalid)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return f, err
	}
	h := sha256.New()
	var n int64
	err = atomicfile.Write(path, 0o640, func(w io.Writer) error {
		var err error
		n, err = io.Copy(io.MultiWriter(w, h), io.LimitReader(body, MaxFirmwareBytes+1))
		switch {
		case err != nil:
			return err
		case n > MaxFirmwareBytes:
			return fmt.Errorf("firmware larger than %d bytes: %w", int64(MaxFirmwareBytes), store.ErrInvalid)
		case n == 0:
			return fmt.Errorf("empty firmware file: %w", store.ErrInvalid)
		}
		return nil
	})
	if err != nil {
		return f, err
	}
	f.Size, f.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	f.Uploaded = p.cfg.Now().UTC()
	if err := p.st.Update(func(tx *store.Tx) error { return tx.SaveFirmware(f) }); err != nil {
		os.Remove(path)
		return f, err
	}
	return f, nil
}

// DeleteFirmware removes a firmware record and its file; a model that targets
// it is refused by the store first (ErrConflict).
func (p *Provisioner) DeleteFirmware(slug, name string) error {
	path, err := p.firmwarePath(slug, name)
	if err != nil {
		return fmt.Errorf("firmware %q: %w", name, store.ErrNotFound)
	}
	err = p.st.Update(func(tx *store.Tx) error {
		mps, err := tx.ModelProfiles(slug)
		if err != nil {
			return err
		}
		for _, m := range mps {
			if m.Firmware == name {
				return fmt.Errorf("firmware %s is the target of %s %s: %w", name, m.Make, m.Model, store.ErrConflict)
			}
			if m.StageFirmware == name {
				return fmt.Errorf("firmware %s is staged for %s %s: %w", name, m.Make, m.Model, store.ErrConflict)
			}
		}
		return tx.DeleteFirmware(slug, name)
	})
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
