package ldapdir

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// attrID names an attribute the directory knows. Filters and attribute lists resolve
// names to ids once per request; -1 (attrUnknown) makes a filter item Undefined.
type attrID int8

const attrUnknown attrID = -1

// User attributes, in the order they are written in an entry.
const (
	aObjectClass attrID = iota
	aDC
	aO
	aOU
	aCN
	aUID
	aSN
	aGivenName
	aDisplayName
	aMail
	aTelephone
	aIPPhone
	aMobile
	aPreferredLanguage
	aJPEGPhoto
	numUserAttrs
)

// Operational attributes, returned for "+" or when named (RFC 4511 §4.5.1.8).
const (
	aEntryDN attrID = numUserAttrs + iota
	aStructuralObjectClass
	aSubschemaSubentry
	aHasSubordinates
	numAttrs
)

// matchRule is the schema's equality/ordering/substring family for an attribute.
type matchRule uint8

const (
	ruleCaseIgnore matchRule = iota // caseIgnoreMatch, caseIgnoreIA5Match (RFC 4517 §4.2.11, §4.2.13)
	ruleTelephone                   // telephoneNumberMatch (RFC 4517 §4.2.29-30)
	ruleNone                        // no equality rule (jpegPhoto): assertions are Undefined
)

type attrDef struct {
	name string
	rule matchRule
}

var attrDefs = [numAttrs]attrDef{
	aObjectClass:           {"objectClass", ruleCaseIgnore},
	aDC:                    {"dc", ruleCaseIgnore},
	aO:                     {"o", ruleCaseIgnore},
	aOU:                    {"ou", ruleCaseIgnore},
	aCN:                    {"cn", ruleCaseIgnore},
	aUID:                   {"uid", ruleCaseIgnore},
	aSN:                    {"sn", ruleCaseIgnore},
	aGivenName:             {"givenName", ruleCaseIgnore},
	aDisplayName:           {"displayName", ruleCaseIgnore},
	aMail:                  {"mail", ruleCaseIgnore},
	aTelephone:             {"telephoneNumber", ruleTelephone},
	aIPPhone:               {"ipPhone", ruleTelephone},
	aMobile:                {"mobile", ruleTelephone},
	aPreferredLanguage:     {"preferredLanguage", ruleCaseIgnore},
	aJPEGPhoto:             {"jpegPhoto", ruleNone},
	aEntryDN:               {"entryDN", ruleCaseIgnore},
	aStructuralObjectClass: {"structuralObjectClass", ruleCaseIgnore},
	aSubschemaSubentry:     {"subschemaSubentry", ruleCaseIgnore},
	aHasSubordinates:       {"hasSubordinates", ruleCaseIgnore},
}

// attrNames maps lower-cased names, aliases and OIDs (RFC 4519, RFC 2798) to ids.
var attrNames = map[string]attrID{
	"2.5.4.0": aObjectClass, "0.9.2342.19200300.100.1.25": aDC, "domaincomponent": aDC,
	"2.5.4.10": aO, "organizationname": aO, "2.5.4.11": aOU, "organizationalunitname": aOU,
	"2.5.4.3": aCN, "commonname": aCN, "0.9.2342.19200300.100.1.1": aUID, "userid": aUID,
	"2.5.4.4": aSN, "surname": aSN, "2.5.4.42": aGivenName, "gn": aGivenName,
	"2.16.840.1.113730.3.1.241": aDisplayName, "0.9.2342.19200300.100.1.3": aMail,
	"rfc822mailbox": aMail, "2.5.4.20": aTelephone, "0.9.2342.19200300.100.1.41": aMobile,
	"mobiletelephonenumber": aMobile, "2.16.840.1.113730.3.1.39": aPreferredLanguage,
	"0.9.2342.19200300.100.1.60": aJPEGPhoto,
}

func init() {
	for id, d := range attrDefs {
		attrNames[strings.ToLower(d.name)] = attrID(id)
	}
}

// lookupAttr resolves an attribute description (RFC 4512 §2.5: name or OID, options after
// ';') case-insensitively without allocating for the usual short ASCII names.
func lookupAttr(desc []byte) attrID {
	if i := bytes.IndexByte(desc, ';'); i >= 0 {
		desc = desc[:i]
	}
	var buf [40]byte
	if len(desc) > len(buf) {
		return attrUnknown
	}
	for i, c := range desc {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	if id, ok := attrNames[string(buf[:len(desc)])]; ok {
		return id
	}
	return attrUnknown
}

// normalize prepares a value for matching under rule (RFC 4518): caseIgnore folds case
// and squeezes insignificant spaces; telephoneNumber also drops spaces and hyphens.
// It returns s itself when nothing changes, so stored values cost no allocation.
func normalize(rule matchRule, s string) string {
	if rule == ruleTelephone {
		return normTelephone(s)
	}
	return normCaseIgnore(s)
}

func normCaseIgnore(s string) string {
	clean := true
	prevSpace := true // leading spaces are insignificant
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') || (c == ' ' && prevSpace) {
			clean = false
			break
		}
		prevSpace = c == ' '
	}
	if clean && !prevSpace {
		return s
	}
	if clean && s == "" {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range strings.ToLower(s) {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func normTelephone(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '-' || ('A' <= c && c <= 'Z') || c >= utf8.RuneSelf {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToLower(s) {
		if r == ' ' || r == '-' || r == '\t' {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// normSubstring prepares one substring assertion part: like normalize, but for caseIgnore
// spaces inside the part are kept as typed (a prefix "de " must still match "de Vries").
func normSubstring(rule matchRule, s string) string {
	if rule == ruleTelephone {
		return normTelephone(s)
	}
	lower := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; ('A' <= c && c <= 'Z') || c >= utf8.RuneSelf {
			lower = false
			break
		}
	}
	if lower {
		return s
	}
	return strings.ToLower(s)
}
