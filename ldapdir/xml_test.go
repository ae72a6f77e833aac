package ldapdir

import (
	"bytes"
	"encoding/xml"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestWriteXML(t *testing.T) {
	f := newFixture(t, Options{})
	render := func(vendor string) []byte {
		t.Helper()
		var b bytes.Buffer
		check(t, f.dir.WriteXML(&b, "acme", vendor, true))
		if strings.Contains(b.String(), "Olga") {
			t.Errorf("%s: another tenant's person", vendor)
		}
		return b.Bytes()
	}
	type entry struct {
		Name      string   `xml:"Name"`
		Telephone []string `xml:"Telephone"`
	}
	var yl struct {
		XMLName xml.Name `xml:"YealinkIPPhoneDirectory"`
		Entries []entry  `xml:"DirectoryEntry"`
	}
	check(t, xml.Unmarshal(render("yealink"), &yl))
	if len(yl.Entries) != 3 || yl.Entries[0].Name != "Anna de Vries" ||
		!slices.Equal(yl.Entries[0].Telephone, []string{"201", "+31201234567", "+31612345678"}) {
		t.Errorf("yealink: %+v", yl.Entries)
	}
	var fv struct {
		XMLName xml.Name `xml:"FanvilIPPhoneDirectory"`
		Entries []entry  `xml:"DirectoryEntry"`
	}
	check(t, xml.Unmarshal(render("fanvil"), &fv))
	if len(fv.Entries) != 3 {
		t.Errorf("fanvil: %+v", fv.Entries)
	}
	var cs struct {
		XMLName xml.Name `xml:"CiscoIPPhoneDirectory"`
		Title   string   `xml:"Title"`
		Entries []entry  `xml:"DirectoryEntry"`
	}
	check(t, xml.Unmarshal(render("cisco"), &cs))
	if cs.Title != "Acme Ltd" || len(cs.Entries) != 6 { // one per number: 3 + 1 + 2
		t.Errorf("cisco: %+v", cs)
	}
	var sn struct {
		XMLName xml.Name `xml:"tbook"`
		Items   []struct {
			Name   string `xml:"name"`
			Number string `xml:"number"`
		} `xml:"item"`
	}
	check(t, xml.Unmarshal(render("snom"), &sn))
	if len(sn.Items) != 6 || sn.Items[3].Name != "Bram Jansen" || sn.Items[3].Number != "202" {
		t.Errorf("snom: %+v", sn.Items)
	}
	var gs struct {
		XMLName  xml.Name `xml:"AddressBook"`
		Contacts []struct {
			FirstName string `xml:"FirstName"`
			LastName  string `xml:"LastName"`
			Phones    []struct {
				Type   string `xml:"type,attr"`
				Number string `xml:"phonenumber"`
			} `xml:"Phone"`
		} `xml:"Contact"`
	}
	check(t, xml.Unmarshal(render("grandstream"), &gs))
	if len(gs.Contacts) != 3 || gs.Contacts[0].LastName != "de Vries" || len(gs.Contacts[0].Phones) != 3 || gs.Contacts[0].Phones[2].Type != "Cell" {
		t.Errorf("grandstream: %+v", gs.Contacts)
	}
	var pl struct {
		XMLName xml.Name `xml:"directory"`
		Items   []struct {
			LN string `xml:"ln"`
			FN string `xml:"fn"`
			CT string `xml:"ct"`
		} `xml:"item_list>item"`
	}
	check(t, xml.Unmarshal(render("poly"), &pl))
	if len(pl.Items) != 6 || pl.Items[0].FN != "Anna" || pl.Items[0].CT != "201" {
		t.Errorf("poly: %+v", pl.Items)
	}
	if err := f.dir.WriteXML(&bytes.Buffer{}, "acme", "nokia", true); !errors.Is(err, ErrUnknownVendor) {
		t.Errorf("unknown vendor: %v", err)
	}
	if err := f.dir.WriteXML(&bytes.Buffer{}, "nope", "yealink", true); !errors.Is(err, ErrNoTenant) {
		t.Errorf("unknown tenant: %v", err)
	}
}

func TestWriteXMLEscapes(t *testing.T) {
	d := NewDirectory()
	d.Load(Tenant{Slug: "t", Name: "A & B"}, nil, []Person{{ID: "x", FirstName: "<Tom>", LastName: "O'Neil & Co", Extensions: []string{"1"}}})
	var b bytes.Buffer
	check(t, d.WriteXML(&b, "t", "yealink", true))
	var v struct {
		Title   string `xml:"Title"`
		Entries []struct {
			Name string `xml:"Name"`
		} `xml:"DirectoryEntry"`
	}
	check(t, xml.Unmarshal(b.Bytes(), &v))
	if v.Title != "A & B" || v.Entries[0].Name != "<Tom> O'Neil & Co" {
		t.Errorf("escaping: %+v", v)
	}
}

// A rendered phonebook is kept for its snapshot and redone after any change.
func TestWriteXMLFollowsChanges(t *testing.T) {
	d := NewDirectory()
	d.Load(Tenant{Slug: "t"}, nil, []Person{{ID: "x", FirstName: "Anna", Extensions: []string{"201"}}})
	render := func() string {
		t.Helper()
		var b bytes.Buffer
		check(t, d.WriteXML(&b, "t", "Yealink", true))
		return b.String()
	}
	first := render()
	if again := render(); again != first || !strings.Contains(first, "Anna") {
		t.Fatalf("second render differs or lacks Anna: %q", again)
	}
	d.PutPerson("t", Person{ID: "y", FirstName: "Bram", Extensions: []string{"202"}})
	if got := render(); !strings.Contains(got, "Bram") || !strings.Contains(got, "Anna") {
		t.Errorf("after a new person: %q", got)
	}
	d.RemovePerson("t", "x")
	if got := render(); strings.Contains(got, "Anna") {
		t.Errorf("after a removal: %q", got)
	}
}
