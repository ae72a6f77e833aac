package provision

import (
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/dialtone/dialtone/store"
)

// The discovered list stays under maxDiscovered, and a record an admin dismissed makes
// room for the next unknown phone (the count is not remembered past a flush).
func TestDiscoveredCapFreesRoom(t *testing.T) {
	t.Parallel()
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

// Repeat fetches of a cached file are counted on its cache entry, not queued one
// by one: one phone's fetches within a window are one entry with their count,
// and a fetch of the same file from another address is logged on its own.
func TestCachedFetchesCounted(t *testing.T) {
	t.Parallel()
	l := newFetchLog(nil, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Hour)
	defer l.close() // nothing left to write: every window is taken below
	e := &cacheEntry{tenant: "acme", mac: yealinkMAC, file: yealinkMAC + ".cfg", body: []byte("x")}
	phone, other := netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("192.0.2.99")
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for i := range 3 {
		if !l.hit(e, phone, "http", yealinkUA, "108.86.0.20", at.Add(time.Duration(i)*time.Second)) {
			t.Fatal("the phone's own repeat fetch was not counted")
		}
	}
	if l.hit(e, other, "http", yealinkUA, "", at) || l.hit(e, phone, "tftp", yealinkUA, "", at) || l.hit(e, phone, "http", "Yealink SIP-T46U 108.86.0.21", "", at) {
		t.Error("a fetch from another address, protocol or User-Agent was folded into the phone's count")
	}
	evs := l.takeHits()
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	ev := evs[0]
	if ev.entry.Count != 3 || ev.addr != phone || ev.entry.Protocol != "http" || !ev.entry.Time.Equal(at.Add(2*time.Second)) ||
		ev.entry.File != yealinkMAC+".cfg" || ev.entry.UserAgent != yealinkUA || ev.entry.Firmware != "108.86.0.20" || ev.entry.Status != 200 || ev.entry.Bytes != 1 || !ev.known {
		t.Errorf("event %+v", ev)
	}
	if len(l.takeHits()) != 0 {
		t.Error("hits were counted twice")
	}
	if !l.hit(e, other, "tftp", yealinkUA, "", at) {
		t.Error("a new window did not start with the next fetch")
	}
	if evs := l.takeHits(); len(evs) != 1 || evs[0].entry.Count != 1 || evs[0].addr != other {
		t.Errorf("next window: %+v", evs)
	}
}

// Over HTTP: every fetch of a phone's config reaches the provisioning log, the first
// (rendered) and the repeats (served from the cache) alike.
func TestHTTPRepeatFetchesLogged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	url := e.httpURL + "/p/" + e.tenant.ProvisioningToken + "/" + yealinkMAC + ".cfg"
	for range 5 {
		if code, _, _ := get(t, url, yealinkUA); code != 200 {
			t.Fatal(code)
		}
	}
	e.flushed(t, func(tx *store.Tx) bool {
		log, _ := tx.ProvisionLog("acme", 0, 0)
		n := 0
		for _, en := range log {
			if en.File == yealinkMAC+".cfg" && en.Addr == "127.0.0.1" && en.Protocol == "http" {
				n += max(en.Count, 1)
			}
		}
		return n == 5
	})
}
