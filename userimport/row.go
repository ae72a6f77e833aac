package userimport

import (
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/dialtone/dialtone/store"
)

// plan is one row made ready for the store: what CreateUser gets, and the department and
// phone that go with it.
type plan struct {
	line   int
	in     store.NewUser
	dept   string // department name as written (trimmed), "" for none
	number string // the extension the row names, "" for the next free one
	mac    string // normalised, "" for none
	model  string
	// phoneMake is the model's make from the model table (set when Options.Models is).
	phoneMake string
	bad       bool // the row has errors: the store never sees it
}

// rowChecker collects a row's issues.
type rowChecker struct {
	s        *sheet
	line     int
	errors   []Issue
	warnings []Issue
}

func (c *rowChecker) fail(col column, format string, args ...any) {
	c.errors = append(c.errors, Issue{Line: c.line, Column: c.s.columnName(col), Message: fmt.Sprintf(format, args...), col: int(col)})
}

func (c *rowChecker) warn(col column, format string, args ...any) {
	c.warnings = append(c.warnings, Issue{Line: c.line, Column: c.s.columnName(col), Message: fmt.Sprintf(format, args...), col: int(col)})
}

// planRow validates and normalises one row on its own (no store, no other rows).
func (s *sheet) planRow(r record) (plan, []Issue, []Issue) {
	c := &rowChecker{s: s, line: r.line}
	p := plan{line: r.line}
	if len(r.fields) > len(s.header) && !blank(r.fields[len(s.header):]) {
		c.errors = append(c.errors, Issue{Line: r.line, Message: fmt.Sprintf(
			"the row has %d fields but the header has %d (a separator inside an unquoted value?)",
			len(r.fields), len(s.header)), col: -1})
	}
	get := func(col column) string { return s.field(r, col) }

	for _, col := range []column{colFirstName, colLastName} {
		v := get(col)
		switch {
		case v == "":
			c.fail(col, "required")
		case !store.ValidName(v):
			c.fail(col, "at most 100 characters, no control characters")
		}
	}
	p.in.FirstName, p.in.LastName = get(colFirstName), get(colLastName)

	if d := get(colDepartment); d != "" {
		if !store.ValidName(d) {
			c.fail(colDepartment, "a department name is 1 to 100 characters, no control characters")
		}
		p.dept = d
	}
	if v := get(colEmail); v != "" {
		e, ok := store.NormalizeEmail(v)
		if !ok {
			c.fail(colEmail, "%q is not an email address", clip(v))
		}
		p.in.Email = e
	}
	if v := get(colNumber); v != "" {
		if !store.ValidExtension(v) {
			c.fail(colNumber, "%q is not an extension (2 to 8 digits, not starting with 0)", clip(v))
		}
		p.number = v
		p.in.Extensions = []string{v}
	}
	if v := get(colMobile); v != "" {
		m, ok := e164(v)
		if !ok {
			c.fail(colMobile, "%q is not an international number (+ and 8 to 15 digits)", clip(v))
		}
		p.in.Mobile = m
	}
	if v := get(colDID); v != "" {
		dids, bad := splitDIDs(v)
		for _, b := range bad {
			c.fail(colDID, "%q is not an E.164 number (+ and 8 to 15 digits)", clip(b))
		}
		seen := map[string]bool{}
		for _, d := range dids {
			if seen[d] {
				c.fail(colDID, "%s given twice", d)
			}
			seen[d] = true
		}
		p.in.ExternalNumbers = dids
	}
	if v := get(colRole); v != "" {
		role, ok := parseRole(v)
		if !ok {
			c.fail(colRole, "unknown role %q (User, Receptionist, Department Administrator, Manager, Owner, System Administrator, System Owner, None, or 3CX <role name=\"managers\" />)", clip(v))
		}
		p.in.Role = role
	}
	if v := get(colLanguage); v != "" {
		lang, ok := parseLanguage(v)
		if !ok {
			c.fail(colLanguage, "unknown language %q (an ISO code such as nl, or an English name such as Dutch)", clip(v))
		}
		p.in.Language = lang
	}
	if v := get(colPIN); v != "" {
		if !store.ValidPIN(v) {
			c.fail(colPIN, "a PIN is 4 to 12 digits") // never echo a PIN
		}
		p.in.PIN = v
	}
	if v := get(colMAC); v != "" {
		mac, ok := store.NormalizeMAC(v)
		if !ok {
			c.fail(colMAC, "%q is not a MAC address (12 hex digits)", clip(v))
		}
		p.mac = mac
	}
	if v := get(colModel); v != "" {
		if len(v) > 64 || strings.ContainsAny(v, "\r\n\x00/") {
			c.fail(colModel, "not a phone model name")
		}
		if p.mac == "" && get(colMAC) == "" {
			c.warn(colModel, "a model without a MAC: ignored")
		}
		p.model = v
	}
	p.bad = len(c.errors) > 0
	return p, c.errors, c.warnings
}

// e164 accepts what NormalizeE164 does, and the 00 international prefix for +.
func e164(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	return store.NormalizeE164(s)
}

// splitDIDs splits a DID field: numbers are separated by ';' or ',' or by spaces, and a
// number may itself be written with spaces ("+31 20 123 4567 +31 20 123 4568" is two).
func splitDIDs(v string) (good, bad []string) {
	for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ',' }) {
		var cur []string
		flush := func() {
			if len(cur) == 0 {
				return
			}
			raw := strings.Join(cur, " ")
			if n, ok := e164(raw); ok {
				good = append(good, n)
			} else {
				bad = append(bad, raw)
			}
			cur = nil
		}
		for _, tok := range strings.Fields(part) {
			// A new number starts with + or 00, or where the one so far is complete and
			// the token would spoil it.
			if strings.HasPrefix(tok, "+") || strings.HasPrefix(tok, "00") {
				flush()
			} else if len(cur) > 0 {
				_, done := e164(strings.Join(cur, " "))
				_, still := e164(strings.Join(append(cur[:len(cur):len(cur)], tok), " "))
				if done && !still {
					flush()
				}
			}
			cur = append(cur, tok)
		}
		flush()
	}
	return good, bad
}

// roleNames maps folded role names (foldHeader) to roles: Dialtone's API values, the
// names 3CX and ClearVox show, and 3CX's XML ids (docs/roles.md).
var roleNames = map[string]store.Role{
	"none": store.RoleNone, "noaccess": store.RoleNone,
	"user": store.RoleUser, "users": store.RoleUser,
	"receptionist": store.RoleReceptionist, "receptionists": store.RoleReceptionist,
	"departmentadmin": store.RoleDepartmentAdmin, "departmentadministrator": store.RoleDepartmentAdmin,
	"departmentadmins": store.RoleDepartmentAdmin, "groupadmin": store.RoleDepartmentAdmin,
	"groupadmins": store.RoleDepartmentAdmin, "groupadministrator": store.RoleDepartmentAdmin,
	"manager": store.RoleManager, "managers": store.RoleManager,
	"owner": store.RoleOwner, "owners": store.RoleOwner, "groupowner": store.RoleOwner,
	"groupowners": store.RoleOwner, "departmentowner": store.RoleOwner,
	"systemadmin": store.RoleSystemAdmin, "systemadmins": store.RoleSystemAdmin,
	"systemadministrator": store.RoleSystemAdmin, "systemadministrators": store.RoleSystemAdmin,
	"systemowner": store.RoleSystemOwner, "systemowners": store.RoleSystemOwner,
}

// parseRole reads a plain role name or 3CX's `<role name="managers" />`.
func parseRole(v string) (store.Role, bool) {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "<") {
		var x struct {
			XMLName xml.Name
			Name    string `xml:"name,attr"`
		}
		if len(v) > 200 || xml.Unmarshal([]byte(v), &x) != nil || !strings.EqualFold(x.XMLName.Local, "role") {
			return "", false
		}
		v = x.Name
	}
	r, ok := roleNames[foldHeader(v)]
	return r, ok
}

// parseLanguage reads an ISO code or a name, also 3CX's "English (US)" style.
func parseLanguage(v string) (string, bool) {
	if l, ok := store.NormalizeLanguage(v); ok {
		return l, true
	}
	if i := strings.IndexByte(v, '('); i > 0 {
		return store.NormalizeLanguage(v[:i])
	}
	return "", false
}

// clip keeps hostile values from filling a report.
func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	cut := 64
	for cut > 0 && s[cut]&0xc0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}
