package provision

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/dialtone/dialtone/store"
)

// Poly's contact directory, {mac}-directory.xml: the phone asks for it by that name
// next to its configuration files and replaces its local contacts with it when it
// boots. Each <item> is a contact: fn and ln (first and last name), ct (the number or
// SIP URI, which must be unique and not empty), sd (the speed-dial index, 1 to 9999),
// lb (the label its key shows), and more (UC Software administrator guide, "Local
// Contact Directory File Format"). A contact with a speed-dial index is a speed dial:
// the phone puts those, in index order, on the line keys its lines and BLF keys leave
// free. Dialtone writes the user's speed dials first (sd 1, 2, …), then the tenant's
// phonebook, leaving out a phonebook number a speed dial already has. Poly's BLF keys
// are attendant.resourceList in the phone's file, not contacts (bw, "buddy watch", is
// presence, not BLF).

// polyDirItem is one contact of the directory.
type polyDirItem struct {
	LN string `xml:"ln"`
	FN string `xml:"fn"`
	CT string `xml:"ct"`
}

// polyNameBytes is how long fn, ln and lb may be (UTF-8 bytes).
const polyNameBytes = 40

// fetchPolyDirectory serves a known Poly phone its contact directory: the speed dials
// of the user on the phone (for a flex phone, of the user logged in), then the tenant's
// phonebook.
func (p *Provisioner) fetchPolyDirectory(t store.Tenant, ph store.Phone, r fetchRequest, model string) fetchResult {
	pr, _, err := p.phoneProfile(t, ph, Poly, model, r.Path)
	if err != nil {
		p.log.Error("profile", "tenant", t.Slug, "mac", ph.MAC, "file", r.Path, "err", err)
		return failed
	}
	var book []polyDirItem
	if p.cfg.Phonebooks != nil {
		var buf bytes.Buffer
		if err := p.cfg.Phonebooks.WriteXML(&buf, t.Slug, string(Poly), t.PhonebookMobile); err != nil {
			p.log.Warn("xml phonebook", "tenant", t.Slug, "vendor", Poly, "err", err)
		} else if book, err = parsePolyDirectory(buf.Bytes()); err != nil {
			p.log.Error("poly phonebook", "tenant", t.Slug, "err", err)
			return failed
		}
	}
	body := polyDirectory(pr.Keys, book)
	p.logFetch(t.Slug, r, ph.MAC, Poly, model, "", 200, len(body), true)
	return fetchResult{Status: 200, Body: body, ContentType: "text/xml; charset=utf-8"}
}

// polyDirectory writes the directory: a contact per speed dial, with its index and
// label, then the phonebook's contacts whose number is not taken yet.
func polyDirectory(keys []Key, book []polyDirItem) []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<!-- Dialtone: speed dials first (sd), then the phonebook. -->\n<directory>\n<item_list>\n")
	seen := map[string]bool{}
	sd := 0
	for _, k := range keys {
		if k.IsBLF() || k.Value == "" || seen[k.Value] {
			continue
		}
		seen[k.Value] = true
		sd++
		label := truncUTF8(k.Label, polyNameBytes)
		b.WriteString("<item>")
		polyElem(&b, "fn", label)
		polyElem(&b, "ct", k.Value)
		polyElem(&b, "sd", strconv.Itoa(sd))
		polyElem(&b, "lb", label)
		b.WriteString("</item>\n")
	}
	for _, it := range book {
		if it.CT == "" || seen[it.CT] {
			continue
		}
		seen[it.CT] = true
		b.WriteString("<item>")
		polyElem(&b, "ln", truncUTF8(it.LN, polyNameBytes))
		polyElem(&b, "fn", truncUTF8(it.FN, polyNameBytes))
		polyElem(&b, "ct", it.CT)
		b.WriteString("</item>\n")
	}
	b.WriteString("</item_list>\n</directory>\n")
	return b.Bytes()
}

func polyElem(b *bytes.Buffer, name, value string) {
	b.WriteString("<" + name + ">")
	xml.EscapeText(b, []byte(value))
	b.WriteString("</" + name + ">")
}

// parsePolyDirectory reads the contacts of the tenant's phonebook in Poly's format
// (ldapdir's <directory><item_list>).
func parsePolyDirectory(b []byte) ([]polyDirItem, error) {
	var d struct {
		XMLName xml.Name      `xml:"directory"`
		Items   []polyDirItem `xml:"item_list>item"`
	}
	if err := xml.Unmarshal(b, &d); err != nil {
		return nil, errors.Join(errors.New("poly phonebook"), err)
	}
	return d.Items, nil
}

// truncUTF8 cuts s to at most n bytes, on a character boundary.
func truncUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
