package ldapdir

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

// XML phonebooks: the same people as the LDAP tree, in each make's remote phonebook
// format (docs/ldap.md, "XML phonebooks"). Provisioning serves them at
// /p/{token}/directory/{vendor}.xml.

// ErrUnknownVendor is returned by WriteXML for a make without an XML phonebook format.
var ErrUnknownVendor = errors.New("no XML phonebook format for this vendor")

// ErrNoTenant is returned by WriteXML for a tenant the directory does not hold.
var ErrNoTenant = errors.New("no such tenant")

// WriteXML writes the tenant's phonebook in vendor's XML format, people sorted by name;
// mobile numbers only when mobile is set (the tenant's phonebook_mobile). A phonebook is rendered once per snapshot and vendor: every phone of a tenant fetches
// it, and a snapshot never changes (the next change makes a new one, with no cache).
func (d *Directory) WriteXML(w io.Writer, tenant, vendor string, mobile bool) error {
	snap := d.snapshot(tenant)
	if snap == nil {
		return ErrNoTenant
	}
	vendor = strings.ToLower(vendor)
	key := vendor
	if mobile {
		key += "+mobile"
	}
	c := snap.xml
	c.mu.Lock()
	body, ok := c.byVendor[key]
	c.mu.Unlock()
	if !ok {
		var buf bytes.Buffer
		if err := writeXML(&buf, snap, vendor, mobile); err != nil {
			return err
		}
		body = buf.Bytes()
		c.mu.Lock()
		if c.byVendor == nil {
			c.byVendor = map[string][]byte{}
		}
		c.byVendor[key] = body
		c.mu.Unlock()
	}
	_, err := w.Write(body)
	return err
}

// xmlCache holds a snapshot's rendered phonebooks by vendor.
type xmlCache struct {
	mu       sync.Mutex
	byVendor map[string][]byte
}

func writeXML(w io.Writer, snap *snapshot, vendor string, mobile bool) error {
	people := make([]*Person, 0, len(snap.persons))
	for _, e := range snap.persons {
		if e == nil {
			continue
		}
		p := e.person
		if !mobile && p.Mobile != "" {
			c := *p
			c.Mobile = ""
			p = &c
		}
		people = append(people, p)
	}
	slices.SortFunc(people, func(a, b *Person) int {
		if c := strings.Compare(strings.ToLower(a.Name()), strings.ToLower(b.Name())); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	bw := bufio.NewWriter(w)
	x := &xmlw{w: bw}
	x.raw(xml.Header)
	switch vendor {
	case "yealink":
		phonebookEntries(x, "YealinkIPPhoneDirectory", people, snap.tenant.Name)
	case "fanvil":
		phonebookEntries(x, "FanvilIPPhoneDirectory", people, "")
	case "cisco":
		x.raw("<CiscoIPPhoneDirectory>\n")
		x.elem("Title", cmp.Or(snap.tenant.Name, "Directory"))
		x.elem("Prompt", "Select a colleague")
		for _, p := range people {
			for _, n := range numbers(p) {
				x.raw("<DirectoryEntry>")
				x.elem("Name", p.Name())
				x.elem("Telephone", n)
				x.raw("</DirectoryEntry>\n")
			}
		}
		x.raw("</CiscoIPPhoneDirectory>\n")
	case "snom":
		x.raw(`<tbook complete="true">` + "\n")
		i := 0
		for _, p := range people {
			for _, n := range numbers(p) {
				x.raw(fmt.Sprintf(`<item context="active" type="none" fav="false" mod="false" index="%d">`, i))
				x.elem("name", p.Name())
				x.elem("number", n)
				x.raw("</item>\n")
				i++
			}
		}
		x.raw("</tbook>\n")
	case "grandstream":
		x.raw("<AddressBook>\n")
		for _, p := range people {
			x.raw("<Contact>")
			first, last := p.FirstName, p.LastName
			if first == "" && last == "" {
				last = p.Name()
			}
			x.elem("FirstName", first)
			x.elem("LastName", last)
			for _, n := range p.Extensions {
				x.raw(`<Phone type="Work">`)
				x.elem("phonenumber", n)
				x.elem("accountindex", "1")
				x.raw("</Phone>")
			}
			for _, n := range p.Numbers {
				x.raw(`<Phone type="Work">`)
				x.elem("phonenumber", n)
				x.elem("accountindex", "1")
				x.raw("</Phone>")
			}
			if p.Mobile != "" {
				x.raw(`<Phone type="Cell">`)
				x.elem("phonenumber", p.Mobile)
				x.elem("accountindex", "1")
				x.raw("</Phone>")
			}
			x.raw("</Contact>\n")
		}
		x.raw("</AddressBook>\n")
	case "poly", "polycom":
		x.raw("<directory>\n<item_list>\n")
		for _, p := range people {
			for _, n := range numbers(p) {
				x.raw("<item>")
				last := p.LastName
				if p.FirstName == "" && last == "" {
					last = p.Name()
				}
				x.elem("ln", last)
				x.elem("fn", p.FirstName)
				x.elem("ct", n)
				x.raw("</item>\n")
			}
		}
		x.raw("</item_list>\n</directory>\n")
	default:
		return ErrUnknownVendor
	}
	if x.err != nil {
		return x.err
	}
	return bw.Flush()
}

// phonebookEntries writes the Yealink/Fanvil shape: one DirectoryEntry per person with a
// Telephone per number.
func phonebookEntries(x *xmlw, root string, people []*Person, title string) {
	x.raw("<" + root + ">\n")
	if title != "" {
		x.elem("Title", title)
	}
	for _, p := range people {
		nums := numbers(p)
		if len(nums) == 0 {
			continue
		}
		x.raw("<DirectoryEntry>")
		x.elem("Name", p.Name())
		for _, n := range nums {
			x.elem("Telephone", n)
		}
		x.raw("</DirectoryEntry>\n")
	}
	x.raw("</" + root + ">\n")
}

// numbers lists extensions, external numbers and the mobile, without repeats.
func numbers(p *Person) []string {
	var out []string
	for _, list := range [][]string{p.Extensions, p.Numbers, {p.Mobile}} {
		for _, n := range list {
			if n != "" && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

type xmlw struct {
	w   *bufio.Writer
	err error
}

func (x *xmlw) raw(s string) {
	if x.err == nil {
		_, x.err = x.w.WriteString(s)
	}
}

func (x *xmlw) elem(name, text string) {
	x.raw("<" + name + ">")
	if x.err == nil {
		x.err = xml.EscapeText(x.w, []byte(text))
	}
	x.raw("</" + name + ">")
}
