package provision

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"testing"

	"github.com/dialtone/dialtone/store"
)

func TestAddFirmware(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	data := bytes.Repeat([]byte{1, 2, 3}, 50000)
	f, err := e.p.AddFirmware(store.Firmware{Tenant: "acme", Name: "T46U-1.rom", Make: "yealink", Model: "T46U", Version: "1"}, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if f.Size != int64(len(data)) || f.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("record %+v", f)
	}
	if _, err := e.p.AddFirmware(store.Firmware{Tenant: "acme", Name: "../evil"}, bytes.NewReader(data)); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad name: %v", err)
	}
	if _, err := e.p.AddFirmware(store.Firmware{Tenant: "acme", Name: "empty.rom"}, bytes.NewReader(nil)); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("empty: %v", err)
	}
	// Target it, fetch it, refuse to delete it while targeted.
	e.st.Update(func(tx *store.Tx) error {
		return tx.SaveModelProfile(store.ModelProfile{Tenant: "acme", Make: "yealink", Model: "T46U", Firmware: f.Name})
	})
	code, body, _ := get(t, e.httpURL+"/p/"+e.tenant.ProvisioningToken+"/fw/"+f.Name, "")
	if code != 200 || body != string(data) {
		t.Fatalf("fetch: %d", code)
	}
	if err := e.p.DeleteFirmware("acme", f.Name); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("delete targeted: %v", err)
	}
	e.st.Update(func(tx *store.Tx) error {
		return tx.SaveModelProfile(store.ModelProfile{Tenant: "acme", Make: "yealink", Model: "T46U"})
	})
	if err := e.p.DeleteFirmware("acme", f.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(e.dataDir + "/firmware/acme/" + f.Name); !os.IsNotExist(err) {
		t.Fatal("file left behind")
	}
	if code, _, _ := get(t, e.httpURL+"/p/"+e.tenant.ProvisioningToken+"/fw/"+f.Name, ""); code != 404 {
		t.Fatalf("deleted firmware still served: %d", code)
	}
}
