package ldapdir

import "strings"

// The subschema entry (RFC 4512 §4.2) that the root DSE's subschemaSubentry names: the
// attribute types and object classes this directory serves, so that schema-aware clients
// (address books, LDAP browsers) can read them. Definitions are those of RFC 4519,
// RFC 4524 and RFC 2798, trimmed to what the directory holds.

const subschemaDN = "cn=Subschema"

// isSubschemaDN reports whether base names the subschema entry (case and spacing aside).
func isSubschemaDN(base string) bool {
	return strings.EqualFold(strings.ReplaceAll(strings.TrimSpace(base), " ", ""), subschemaDN)
}

var subschemaAttributeTypes = []string{
	"( 2.5.4.0 NAME 'objectClass' EQUALITY objectIdentifierMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 )",
	"( 2.5.4.41 NAME 'name' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
	"( 2.5.4.3 NAME 'cn' SUP name )",
	"( 2.5.4.4 NAME 'sn' SUP name )",
	"( 2.5.4.42 NAME 'givenName' SUP name )",
	"( 2.5.4.10 NAME 'o' SUP name )",
	"( 2.5.4.11 NAME 'ou' SUP name )",
	"( 0.9.2342.19200300.100.1.25 NAME 'dc' EQUALITY caseIgnoreIA5Match SUBSTR caseIgnoreIA5SubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 SINGLE-VALUE )",
	"( 0.9.2342.19200300.100.1.1 NAME 'uid' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
	"( 2.16.840.1.113730.3.1.241 NAME 'displayName' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )",
	"( 0.9.2342.19200300.100.1.3 NAME 'mail' EQUALITY caseIgnoreIA5Match SUBSTR caseIgnoreIA5SubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 )",
	"( 2.5.4.20 NAME 'telephoneNumber' EQUALITY telephoneNumberMatch SUBSTR telephoneNumberSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.50 )",
	"( 0.9.2342.19200300.100.1.41 NAME 'mobile' EQUALITY telephoneNumberMatch SUBSTR telephoneNumberSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.50 )",
	"( 2.16.840.1.113730.3.1.39 NAME 'preferredLanguage' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )",
	"( 0.9.2342.19200300.100.1.60 NAME 'jpegPhoto' SYNTAX 1.3.6.1.4.1.1466.115.121.1.28 )",
	"( 1.3.6.1.4.1.9.3.1 NAME 'ipPhone' EQUALITY caseIgnoreIA5Match SUBSTR caseIgnoreIA5SubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 )",
}

var subschemaObjectClasses = []string{
	"( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )",
	"( 0.9.2342.19200300.100.4.13 NAME 'domain' SUP top STRUCTURAL MUST dc )",
	"( 2.5.6.4 NAME 'organization' SUP top STRUCTURAL MUST o MAY ( telephoneNumber ) )",
	"( 2.5.6.5 NAME 'organizationalUnit' SUP top STRUCTURAL MUST ou MAY ( telephoneNumber ) )",
	"( 2.5.6.6 NAME 'person' SUP top STRUCTURAL MUST ( sn $ cn ) MAY ( telephoneNumber ) )",
	"( 2.5.6.7 NAME 'organizationalPerson' SUP person STRUCTURAL MAY ( ou ) )",
	"( 2.16.840.1.113730.3.2.2 NAME 'inetOrgPerson' SUP organizationalPerson STRUCTURAL MAY ( displayName $ givenName $ jpegPhoto $ mail $ mobile $ preferredLanguage $ uid $ ipPhone ) )",
	"( 2.5.6.2 NAME 'country' SUP top STRUCTURAL MUST c )",
	"( 1.3.6.1.4.1.1466.101.120.111 NAME 'extensibleObject' SUP top AUXILIARY )",
	"( 2.5.17.0 NAME 'subentry' SUP top STRUCTURAL MUST ( cn $ subtreeSpecification ) )",
	"( 2.5.20.1 NAME 'subschema' AUXILIARY MAY ( dITStructureRules $ nameForms $ dITContentRules $ objectClasses $ attributeTypes $ matchingRules $ matchingRuleUse ) )",
}

// subschemaAttrs are the entry's attributes: objectClass and cn are user attributes, the
// rest operational (returned for "+" or when named, RFC 4512 §4.2).
func buildSubschema() []dseAttr {
	return []dseAttr{
		{name: "objectClass", enc: encodeAttribute("objectClass", []string{"top", "subentry", "subschema", "extensibleObject"})},
		{name: "cn", enc: encodeAttribute("cn", []string{"Subschema"})},
		{name: "attributeTypes", enc: encodeAttribute("attributeTypes", subschemaAttributeTypes), operational: true},
		{name: "objectClasses", enc: encodeAttribute("objectClasses", subschemaObjectClasses), operational: true},
	}
}

var subschemaEntry = func() *entry {
	e := newEntry(kindRoot, subschemaDN, "cn=subschema", "subentry", false)
	e.set(aObjectClass, "top", "subentry", "subschema", "extensibleObject")
	e.set(aCN, "Subschema")
	return e
}()
