package provision

import (
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/dialtone/dialtone/store"
)

// The discovered list stays under maxDiscovered, and a record an admin dismissed makes
// room for the next unknown phone (the count is not remembered past a flush).
func TestDiscoveredCapFreesRoom(t *testing.T) {
	st, err := store.Open(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Update(func(tx *store.Tx) error {
		if _, err := tx.CreateTenant(store.NewTenant{Slug: "acme"}); err != nil {
			return err
		}
		for i := range maxDiscovered {
			if err := tx.SaveDiscovered(store.Discovered{Tenant: "acme", MAC: fmt.Sprintf("001565%06x", i), Make: "yealink"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	l := newFetchLog(st, slog.New(slog.NewTextHandler(io.Discard, nil)), 0)
	defer l.close()
	unknown := func() []fetchEvent {
		d := &store.Discovered{Tenant: "acme", MAC: "805ec0ffffff", Make: "yealink"}
		return []fetchEvent{{tenant: "acme", entry: store.ProvisionLogEntry{MAC: d.MAC, File: "805ec0ffffff.cfg", Status: 404}, discovered: d}}
	}
	listed := func() bool {
		err := st.View(func(tx *store.Tx) error { _, err := tx.DiscoveredPhone("acme", "805ec0ffffff"); return err })
		return err == nil
	}
	l.flush(unknown())
	if listed() {
		t.Fatal("a full discovered list grew")
	}
	if err := st.Update(func(tx *store.Tx) error { return tx.DeleteDiscovered("acme", "001565000000") }); err != nil {
		t.Fatal(err)
	}
	l.flush(unknown())
	if !listed() {
		t.Error("a dismissed record did not make room for the next unknown phone")
	}
}
