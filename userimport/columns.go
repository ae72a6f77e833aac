package userimport

import "strings"

// column is one field Dialtone imports (docs/roles.md, "CSV import").
type column int

const (
	colFirstName column = iota
	colLastName
	colDepartment
	colEmail
	colNumber
	colMobile
	colDID
	colRole
	colLanguage
	colPIN
	colMAC
	colModel
	numColumns
)

// columnNames are the canonical names, as docs/roles.md spells them; used in messages when the
// file lacks the column.
var columnNames = [numColumns]string{
	"FirstName", "LastName", "Department", "EmailAddress", "Number", "MobileNumber", "DID",
	"Role", "Language", "VMPIN", "MAC", "Model",
}

// columnAliases maps a folded header name (lower case, no spaces, underscores, hyphens
// or dots) to the column it fills.
var columnAliases = map[string]column{
	"firstname": colFirstName, "givenname": colFirstName, "first": colFirstName,
	"lastname": colLastName, "surname": colLastName, "familyname": colLastName, "last": colLastName,
	"department": colDepartment, "departmentname": colDepartment, "dept": colDepartment,
	"group": colDepartment, "maindepartment": colDepartment,
	"emailaddress": colEmail, "email": colEmail, "mail": colEmail, "emailaddr": colEmail,
	"number": colNumber, "extension": colNumber, "extensionnumber": colNumber, "ext": colNumber,
	"mobilenumber": colMobile, "mobile": colMobile, "mobilephone": colMobile, "cellphone": colMobile,
	"did": colDID, "dids": colDID, "didnumber": colDID, "didnumbers": colDID,
	"externalnumber": colDID, "externalnumbers": colDID,
	"role": colRole, "userrole": colRole,
	"language": colLanguage, "lang": colLanguage,
	"vmpin": colPIN, "pin": colPIN, "voicemailpin": colPIN,
	"mac": colMAC, "macaddress": colMAC, "phonemac": colMAC,
	"model": colModel, "phonemodel": colModel,
}

// threeCXColumns are columns of the 3CX v20 user export that Dialtone has no use for;
// they get a gentler warning than a column nobody knows.
var threeCXColumns = map[string]bool{
	"outboundcallerid": true, "template": true, "vmenable": true, "vmplaycallerid": true,
	"vmplaymsgdatetime": true, "vmemailoptions": true, "recordcalls": true, "hotdesk": true,
	"blf": true, "callusenable": true, "callusrequirement": true, "authid": true,
	"authpassword": true, "webmeetingfriendlyname": true, "webmeetingapproveparticipants": true,
	"clicktocallid": true, "enablehotdesking": true, "phoneinterface": true,
	"phonewebpassword": true, "sipid": true, "pinprotect": true, "hidefromphonebook": true,
	"allowlanonly": true, "callerid": true, "provisionedphones": true, "ringtone": true,
	"emailmissedcalls": true, "mscalls": true, "voicemail": true, "voicemailenabled": true,
	"transcribevoicemail": true, "secondaryemail": true, "title": true, "enabled": true,
	"forwardingprofiles": true, "officehours": true, "breaktime": true, "groups": true,
	"pbxdeliversaudio": true, "supportreinvite": true, "supportreplaces": true,
	"deliverqueuecalls": true, "sendemailmissedcalls": true,
}

// foldHeader lower-cases a header name and drops the separators people put in it
// ("First Name", "first_name", "E-Mail").
func foldHeader(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		switch r {
		case ' ', '_', '-', '.', '\t':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
