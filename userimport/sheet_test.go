package userimport

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestSheetSeparatorsAndHeaders(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, csv string
		comma     rune
	}{
		{"comma", "FirstName,LastName\nA,B\n", ','},
		{"semicolon bom crlf", "\uFEFFfirstname;LASTNAME\r\nA;B\r\n", ';'},
		{"tab", "First Name\tLast Name\nA\tB\n", '\t'},
		{"excel sep line", "sep=;\nFirstName;LastName\nA;B\n", ';'},
		{"quoted header with comma", "\"FirstName\";\"LastName\";\"Note, x\"\nA;B;c\n", ';'},
	}
	for _, c := range cases {
		s, err := readSheet([]byte(c.csv))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if s.comma != c.comma || len(s.rows) != 1 || s.field(s.rows[0], colFirstName) != "A" || s.field(s.rows[0], colLastName) != "B" {
			t.Errorf("%s: comma %q rows %+v", c.name, s.comma, s.rows)
		}
	}
	// The sep= line counts as line 1: the first data row is line 3.
	s, _ := readSheet([]byte("sep=,\nFirstName,LastName\n\n,,\nA,B\n"))
	if len(s.rows) != 1 || s.rows[0].line != 5 {
		t.Errorf("blank rows or line numbers: %+v", s.rows)
	}
	// A quoted field over two lines: the next row's line number follows the file.
	s, _ = readSheet([]byte("FirstName,LastName\n\"A\nA\",B\nC,D\n"))
	if len(s.rows) != 2 || s.rows[1].line != 4 || s.rows[0].fields[0] != "A\nA" {
		t.Errorf("multi-line field: %+v", s.rows)
	}
}

func TestSheetAliasesAndWarnings(t *testing.T) {
	t.Parallel()
	s, err := readSheet([]byte("Given Name,Surname,E-mail,Extension,PIN,MAC Address,Phone Model,Foo,,VMEnable\n"))
	if err != nil {
		t.Fatal(err)
	}
	for c, want := range map[column]int{colFirstName: 0, colLastName: 1, colEmail: 2, colNumber: 3, colPIN: 4, colMAC: 5, colModel: 6} {
		if s.index[c] != want {
			t.Errorf("%s at %d, want %d", columnNames[c], s.index[c], want)
		}
	}
	if len(s.warnings) != 3 || !hasIssue(s.warnings, 1, "Foo", "unknown") || !hasIssue(s.warnings, 1, "#9", "without a name") ||
		!hasIssue(s.warnings, 1, "VMEnable", "3CX") {
		t.Errorf("warnings: %v", s.warnings)
	}
}

func TestRoleAndLanguageForms(t *testing.T) {
	t.Parallel()
	roles := map[string]string{
		"Manager": "manager", "manager": "manager", "system_admin": "system_admin",
		"System Administrator": "system_admin", "Department Administrator": "department_admin",
		`<role name="users" />`: "user", `<role name="receptionists" />`: "receptionist",
		`<role name="group_admins" />`: "department_admin", `<role name="managers"/>`: "manager",
		`<role name="group_owners" />`: "owner", `<role name="system_admins" />`: "system_admin",
		`<role name="system_owners" />`: "system_owner", "None": "none", "Owner": "owner",
	}
	for in, want := range roles {
		if r, ok := parseRole(in); !ok || string(r) != want {
			t.Errorf("role %q: %q %v, want %q", in, r, ok, want)
		}
	}
	for _, bad := range []string{"god", `<rol name="managers" />`, `<role name="gods" />`, `<role name="managers"`} {
		if _, ok := parseRole(bad); ok {
			t.Errorf("role %q accepted", bad)
		}
	}
	for in, want := range map[string]string{"nl": "nl", "Dutch": "nl", "EN": "en", "English (US)": "en", "de-DE": "de", "Français": "fr"} {
		if l, ok := parseLanguage(in); !ok || l != want {
			t.Errorf("language %q: %q", in, l)
		}
	}
	good, bad := splitDIDs("+31 20 123 4567 +31201234568; 0031201234569,+3120-123-4570 0201234571")
	if strings.Join(good, " ") != "+31201234567 +31201234568 +31201234569 +31201234570" || len(bad) != 1 || bad[0] != "0201234571" {
		t.Errorf("DIDs %v bad %v", good, bad)
	}
}

func TestProgressBar(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	bar := ProgressBar(&b)
	for i := 0; i <= 1000; i += 5 {
		bar(i, 1000)
	}
	out := b.String()
	if strings.Count(out, "\r") != 101 || !strings.HasSuffix(out, "1000/1000 rows\n") || strings.Count(out, "\n") != 1 {
		t.Errorf("bar output: %d redraws, %q", strings.Count(out, "\r"), out[len(out)-60:])
	}
	if !strings.Contains(out, "[###############---------------]  50%") {
		t.Errorf("no half-way bar in %q", out)
	}
}

// FuzzReadSheet feeds arbitrary bytes to the CSV reader and the row checks: no panic,
// and every answer points at a line of the file.
func FuzzReadSheet(f *testing.F) {
	f.Add([]byte("FirstName,LastName,Department\nAnna,de Jong,Sales\n"))
	f.Add([]byte(threeCX))
	f.Add([]byte("sep=;\nFirstName;LastName;Role;DID\n\"A\"\"\";B;<role name=\"x\"/>;+31 20 1\n"))
	f.Add([]byte("FirstName,LastName\n\"unterminated\n"))
	f.Add([]byte("\xef\xbb\xbfFirstName,LastName,MAC\na,b,\xff\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := 1 + bytes.Count(data, []byte("\n"))
		s, err := readSheet(data)
		if err != nil {
			var fe *fileError
			if !errors.As(err, &fe) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			if fe != nil && (fe.Line < 1 || fe.Line > lines) {
				t.Fatalf("file error at line %d of %d", fe.Line, lines)
			}
			return
		}
		plans, errs, warns := s.planAll()
		if len(plans) != len(s.rows) {
			t.Fatalf("%d plans for %d rows", len(plans), len(s.rows))
		}
		for _, is := range append(errs, warns...) {
			if is.Line < 1 || is.Line > lines || is.Message == "" {
				t.Fatalf("issue out of the file: %+v (%d lines)", is, lines)
			}
		}
		for _, p := range plans {
			if p.line < 2 || p.line > lines {
				t.Fatalf("row line %d of %d", p.line, lines)
			}
		}
	})
}
