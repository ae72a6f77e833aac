package store

import (
	"errors"
	"testing"
	"time"
)

func TestProvisionRecords(t *testing.T) {
	t.Parallel()
	s, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var changes []Change
	s.Subscribe(func(c Change) { changes = append(changes, c) }, KindDiscovered, KindFirmware, KindSetting)
	err = s.Update(func(tx *Tx) error {
		if _, err := tx.CreateTenant(NewTenant{Slug: "acme"}); err != nil {
			return err
		}
		if err := tx.SaveDiscovered(Discovered{Tenant: "acme", MAC: "80:5E:C0:AA:BB:CC", Make: "yealink"}); err != nil {
			return err
		}
		if err := tx.SaveModelProfile(ModelProfile{Tenant: "acme", Make: "yealink", Model: "T46U", Firmware: "nope.rom"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("target firmware that does not exist: %v", err)
		}
		if err := tx.SaveFirmware(Firmware{Tenant: "acme", Name: "a.rom", Size: 3}); err != nil {
			return err
		}
		if err := tx.SaveFirmware(Firmware{Tenant: "acme", Name: "../x"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("bad firmware name: %v", err)
		}
		return tx.SaveModelProfile(ModelProfile{Tenant: "acme", Make: "yealink", Model: "t46u", Firmware: "a.rom", Settings: map[string]string{"k": "v"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 3 {
		t.Fatalf("changes: %+v", changes)
	}
	s.View(func(tx *Tx) error {
		ds, _ := tx.DiscoveredPhones("acme", "", 0)
		if len(ds) != 1 || ds[0].MAC != "805ec0aabbcc" || ds[0].FirstSeen.IsZero() {
			t.Errorf("discovered: %+v", ds)
		}
		m, err := tx.ModelProfile("acme", "Yealink", "T46U")
		if err != nil || m.Firmware != "a.rom" || m.Settings["k"] != "v" {
			t.Errorf("model profile: %+v %v", m, err)
		}
		return nil
	})
	// Becoming a phone removes it from the discovered list.
	s.Update(func(tx *Tx) error { _, err := tx.CreatePhone(Phone{MAC: "805ec0aabbcc", Tenant: "acme"}); return err })
	s.View(func(tx *Tx) error {
		if ds, _ := tx.DiscoveredPhones("acme", "", 0); len(ds) != 0 {
			t.Errorf("assigned phone still discovered: %+v", ds)
		}
		return nil
	})
	// TouchPhone records last seen without a change event.
	n := len(changes)
	s.Update(func(tx *Tx) error { return tx.TouchPhone("805ec0aabbcc", time.Now(), "10.0.0.9", "Yealink", "1.2") })
	p, _ := s.Phone("805ec0aabbcc")
	if p.LastAddr != "10.0.0.9" || p.Firmware != "1.2" || len(changes) != n {
		t.Errorf("touch: %+v", p)
	}
}

func TestProvisionLogIsARing(t *testing.T) {
	t.Parallel()
	s, _ := Open(Options{})
	defer s.Close()
	s.Update(func(tx *Tx) error { _, err := tx.CreateTenant(NewTenant{Slug: "acme"}); return err })
	batch := make([]ProvisionLogEntry, 1000)
	for i := 0; i < ProvisionLogSize/1000+2; i++ {
		for j := range batch {
			batch[j] = ProvisionLogEntry{File: "f", Status: 200}
		}
		if err := s.UpdateLazy(func(tx *Tx) error { return tx.AppendProvisionLog("acme", batch) }); err != nil {
			t.Fatal(err)
		}
	}
	s.View(func(tx *Tx) error {
		all, _ := tx.ProvisionLog("acme", 0, 0)
		if len(all) != ProvisionLogSize {
			t.Errorf("ring holds %d, want %d", len(all), ProvisionLogSize)
		}
		if all[0].Seq != int64(ProvisionLogSize+2000-1) {
			t.Errorf("newest seq %d", all[0].Seq)
		}
		page, _ := tx.ProvisionLog("acme", all[9].Seq, 5)
		if len(page) != 5 || page[0].Seq != all[10].Seq {
			t.Errorf("paging: %+v", page)
		}
		return nil
	})
}
