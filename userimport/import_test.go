package userimport

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/store"
)

func TestSeedThreeColumns(t *testing.T) {
	st := openStore(t)
	res := mustImport(t, st, "FirstName,LastName,Department\nAnna,de Jong,Sales\nBram,Jansen,Support\nDaan,Visser,sales\n")
	if len(res.Users) != 3 || res.Rows != 3 || len(res.Errors) != 0 || len(res.Warnings) != 0 {
		t.Fatalf("result: %+v", res)
	}
	var names []string
	for _, d := range res.DepartmentsCreated {
		names = append(names, d.Name)
	}
	if !slices.Equal(names, []string{"Sales", "Support"}) || res.DepartmentsCreated[1].Line != 3 {
		t.Fatalf("departments created: %+v", res.DepartmentsCreated)
	}
	pin := regexp.MustCompile(`^[0-9]{6}$`)
	var exts []string
	for _, cu := range res.Users {
		if !pin.MatchString(cu.PIN) || len(cu.Password) < 16 || cu.ID == "" {
			t.Fatalf("generated secrets missing: %+v", cu)
		}
		u, err := st.User(store.DefaultTenant, cu.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Secrets().CheckPIN(u.PINOwner(), cu.PIN, u.PINHash) || !checkPassword(st, cu.Password, u.PasswordHash) {
			t.Errorf("line %d: the secrets shown do not verify against the store", cu.Line)
		}
		if strings.Contains(u.PINHash, cu.PIN) || strings.Contains(u.PasswordHash, cu.Password) {
			t.Errorf("secret stored in clear")
		}
		if u.Role != store.RoleUser || u.DepartmentID == "" {
			t.Errorf("user %+v", u)
		}
		exts = append(exts, cu.Extensions...)
	}
	if !slices.Equal(exts, []string{"100", "101", "102"}) {
		t.Errorf("extensions %v, want the next free ones of the range", exts)
	}
	// Daan's "sales" is the department Anna's row created.
	u0, _ := st.User(store.DefaultTenant, res.Users[0].ID)
	u2, _ := st.User(store.DefaultTenant, res.Users[2].ID)
	if u0.DepartmentID != u2.DepartmentID {
		t.Error("department names are not matched case-insensitively")
	}
	// One audit event, with the actor's source and no secret in it.
	var evs []store.AuditEvent
	st.View(func(tx *store.Tx) (err error) {
		evs, err = tx.AuditLog(store.DefaultTenant, store.AuditQuery{Limit: 1})
		return err
	})
	if len(evs) != 1 || evs[0].Action != "users.import" || evs[0].Source != "test" {
		t.Fatalf("audit: %+v", evs)
	}
	after, _ := evs[0].After.(map[string]any)
	if after["users_created"] != float64(3) {
		t.Errorf("audit after: %v", evs[0].After)
	}
}

const threeCX = "\uFEFFNumber;FirstName;LastName;EmailAddress;MobileNumber;OutboundCallerID;DID;Role;Department;Language;VMPIN;MAC;Model;Template;VMEnable;RecordCalls;HotDesk;BLF\r\n" +
	"201;Anna;de Jong;Anna@Example.COM;+31 6 1234 5678;+31201234500;+31201234501 +31201234502;<role name=\"managers\" />;Sales;Dutch;482916;00:15:65:AA:BB:01;T46U;default;1;0;0;\"<PhoneDevice><BLF key=\"\"1\"\";202</BLF></PhoneDevice>\"\r\n" +
	"202;Bram;Jansen;bram@example.com;;;\"+31201234503;+31201234504\";<role name=\"system_admins\" />;Support;en;;0015.65aa.bb02;;;;;;\r\n" +
	"203;\"Daan; jr\";Visser;;;;;<role name='group_owners'/>;Sales;de;98765123;;;;;;;\r\n" +
	";Emma;Bakker;emma@example.com;;;;System Administrator;;fr;;;;;;;;\r\n" +
	";Femke;Smit;;;;;manager;;English (US);;;;;;;;\r\n"

func TestThreeCXExport(t *testing.T) {
	st := openStore(t)
	res := mustImport(t, st, threeCX)
	if len(res.Users) != 5 {
		t.Fatalf("users: %+v errors %v", res.Users, res.Errors)
	}
	for _, col := range []string{"OutboundCallerID", "Template", "VMEnable", "RecordCalls", "HotDesk", "BLF"} {
		if !hasIssue(res.Warnings, 1, col, "ignored") {
			t.Errorf("no warning for column %s: %v", col, res.Warnings)
		}
	}
	anna := userByEmail(t, st, "anna@example.com")
	if anna.Role != store.RoleManager || anna.Language != "nl" || anna.Mobile != "+31612345678" ||
		!slices.Equal(anna.Extensions, []string{"201"}) ||
		!slices.Equal(anna.ExternalNumbers, []string{"+31201234501", "+31201234502"}) {
		t.Errorf("anna: %+v", anna)
	}
	if !st.Secrets().CheckPIN(anna.PINOwner(), "482916", anna.PINHash) || res.Users[0].PIN != "" {
		t.Error("the file's PIN was not kept, or was echoed back")
	}
	p, err := st.Phone("001565aabb01")
	if err != nil || p.UserID != anna.ID || p.Model != "T46U" || p.Tenant != store.DefaultTenant {
		t.Errorf("phone: %+v %v", p, err)
	}
	bram := userByEmail(t, st, "bram@example.com")
	if bram.Role != store.RoleSystemAdmin || bram.Language != "en" ||
		!slices.Equal(bram.ExternalNumbers, []string{"+31201234503", "+31201234504"}) {
		t.Errorf("bram: %+v", bram)
	}
	if p, err := st.Phone("00-15-65-aa-bb-02"); err != nil || p.UserID != bram.ID {
		t.Errorf("bram's phone: %+v %v", p, err)
	}
	daan, _ := st.User(store.DefaultTenant, res.Users[2].ID)
	if daan.FirstName != "Daan; jr" || daan.Role != store.RoleOwner || daan.Language != "de" {
		t.Errorf("daan: %+v", daan)
	}
	emma := userByEmail(t, st, "emma@example.com")
	femke, _ := st.User(store.DefaultTenant, res.Users[4].ID)
	if emma.Role != store.RoleSystemAdmin || emma.Language != "fr" || emma.DepartmentID != "" ||
		femke.Role != store.RoleManager || femke.Language != "en" {
		t.Errorf("emma %+v femke %+v", emma, femke)
	}
	// Rows without a number get the lowest free one; 201-203 are the file's own.
	if !slices.Equal(res.Users[3].Extensions, []string{"100"}) || !slices.Equal(res.Users[4].Extensions, []string{"101"}) {
		t.Errorf("auto extensions: %v %v", res.Users[3].Extensions, res.Users[4].Extensions)
	}
	if len(res.DepartmentsCreated) != 2 {
		t.Errorf("departments: %+v", res.DepartmentsCreated)
	}
}

func TestNamedNumbersNotHandedOut(t *testing.T) {
	st := openStore(t)
	res := mustImport(t, st, "FirstName,LastName,Number\nA,One,\nB,Two,\nC,Three,100\nD,Four,102\n")
	var got []string
	for _, u := range res.Users {
		got = append(got, u.Extensions...)
	}
	if !slices.Equal(got, []string{"101", "103", "100", "102"}) {
		t.Errorf("extensions %v", got)
	}
}

func TestRowErrorsLineAndColumn(t *testing.T) {
	st := openStore(t)
	before := snap(t, st)
	csv := "First Name;last_name;E-Mail;Number;Mobile;DID;Role;Language;PIN;MAC;Model;Department\n" +
		"Anna;de Jong;not-an-email;;;;;;;;;\n" + // 2
		"Bram;Jansen;;0123;;;;;;;;\n" + // 3
		"Daan;Visser;;;0612345678;;;;;;;\n" + // 4
		"Emma;Bakker;;;;+31 20 123 4567 12345;;;;;;\n" + // 5
		"Femke;Smit;;;;;<role name=\"gods\" />;;;;;\n" + // 6
		"Gijs;Meijer;;;;;;Klingon;;;;\n" + // 7
		"Hanna;Mulder;;;;;;;12ab;;;\n" + // 8
		"Jeroen;Bos;;;;;;;;00:11:22:33:44;;\n" + // 9
		"Karin;Vos;;;;;;;;;a/b;\n" + // 10
		";Peters;;;;;;;;;;\n" + // 11
		"Lars;" + strings.Repeat("x", 101) + ";;;;;;;;;;\n" + // 12
		"Maaike;Dekker;;;;;;;;;;Sales;extra\n" + // 13
		"Noah;Brouwer;;;;;manager;nl;482916;;;Sales\n" // 14: good
	res, err := run(t, st, csv, false)
	if !isRejected(err) {
		t.Fatalf("err %v", err)
	}
	want := []struct {
		line      int
		col, part string
	}{
		{2, "E-Mail", "not an email"}, {3, "Number", "not an extension"}, {4, "Mobile", "international"},
		{5, "DID", "12345"}, {6, "Role", "unknown role"}, {7, "Language", "unknown language"},
		{8, "PIN", "4 to 12 digits"}, {9, "MAC", "not a MAC"}, {10, "Model", "model"},
		{11, "First Name", "required"}, {12, "last_name", "100 characters"}, {13, "", "13 fields"},
	}
	for _, w := range want {
		if !hasIssue(res.Errors, w.line, w.col, w.part) {
			t.Errorf("no error at line %d column %q (%s); got %v", w.line, w.col, w.part, res.Errors)
		}
	}
	if len(res.Errors) != len(want) {
		t.Errorf("%d errors, want %d: %v", len(res.Errors), len(want), res.Errors)
	}
	for i := 1; i < len(res.Errors); i++ {
		if res.Errors[i].Line < res.Errors[i-1].Line {
			t.Errorf("errors not in line order: %v", res.Errors)
		}
	}
	if strings.Contains(issuesText(res.Errors), "12ab") {
		t.Error("a PIN was echoed in an error")
	}
	if len(res.Users) != 0 || snap(t, st) != before {
		t.Errorf("a rejected import wrote: %+v", snap(t, st))
	}
}

func issuesText(list []Issue) string {
	var b strings.Builder
	for _, is := range list {
		b.WriteString(is.String() + "\n")
	}
	return b.String()
}

func TestDuplicatesWithinFile(t *testing.T) {
	st := openStore(t)
	csv := "FirstName,LastName,Email,Number,DID,MAC\n" +
		"A,One,a@x.test,201,+31201111111,001565000001\n" +
		"B,Two,A@X.test,,,\n" + // 3: email
		"C,Three,,201,,\n" + // 4: extension
		"D,Four,,,+31 20 111 1111,\n" + // 5: DID
		"E,Five,,,,00:15:65:00:00:01\n" + // 6: MAC
		"F,Six,,,\"+31202222222;+31202222222\",\n" // 7: DID twice in a row
	res, err := run(t, st, csv, false)
	if !isRejected(err) {
		t.Fatalf("err %v", err)
	}
	for _, w := range []struct {
		line      int
		col, part string
	}{{3, "Email", "also on line 2"}, {4, "Number", "also on line 2"}, {5, "DID", "also on line 2"},
		{6, "MAC", "also on line 2"}, {7, "DID", "given twice"}} {
		if !hasIssue(res.Errors, w.line, w.col, w.part) {
			t.Errorf("no error line %d %s: %v", w.line, w.col, res.Errors)
		}
	}
	if hasIssue(res.Errors, 2, "Email", "") {
		t.Error("the first row of a pair was blamed")
	}
}

func TestDuplicatesAgainstStore(t *testing.T) {
	st := openStore(t)
	mustImport(t, st, "FirstName,LastName,Email,Number,DID,MAC\nA,One,a@x.test,201,+31201111111,001565000001\n")
	before := snap(t, st)
	csv := "FirstName,LastName,Email,Number,DID,MAC\n" +
		"B,Two,a@x.test,,,\n" +
		"C,Three,,201,,\n" +
		"D,Four,,,+31201111111,\n" +
		"E,Five,,,,0015.6500.0001\n" +
		"F,Six,admin@localhost,,,\n"
	// on_duplicate=create: an email match cannot be honoured and is the row's error.
	res, err := Import(st, store.DefaultTenant, strings.NewReader(csv), Options{OnDuplicate: DuplicateCreate})
	if !isRejected(err) {
		t.Fatalf("err %v", err)
	}
	for _, w := range []struct {
		line int
		col  string
	}{{2, "Email"}, {3, "Number"}, {4, "DID"}, {5, "MAC"}, {6, "Email"}} {
		if !hasIssue(res.Errors, w.line, w.col, "") {
			t.Errorf("no error line %d %s: %v", w.line, w.col, res.Errors)
		}
	}
	if snap(t, st) != before {
		t.Error("rejected import wrote")
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	st := openStore(t)
	before := snap(t, st)
	res, err := run(t, st, threeCX, true)
	if err != nil {
		t.Fatalf("dry run: %v %v", err, res.Errors)
	}
	if !res.DryRun || len(res.Users) != 5 || len(res.DepartmentsCreated) != 2 {
		t.Fatalf("dry run result: %+v", res)
	}
	for _, u := range res.Users {
		if u.ID != "" || u.PIN != "" || u.Password != "" || len(u.Extensions) != 1 {
			t.Errorf("dry run user shows ids or secrets: %+v", u)
		}
	}
	if snap(t, st) != before {
		t.Errorf("dry run wrote: %+v -> %+v", before, snap(t, st))
	}
	// A dry run that finds errors says so, and still writes nothing.
	res, err = run(t, st, "FirstName,LastName,Email\nA,B,nope\n", true)
	if !isRejected(err) || !hasIssue(res.Errors, 2, "Email", "") {
		t.Errorf("dry run with errors: %v %v", err, res.Errors)
	}
	// The real import after the dry run takes the same numbers the dry run showed.
	real := mustImport(t, st, threeCX)
	if !slices.Equal(real.Users[3].Extensions, []string{"100"}) {
		t.Errorf("real import extensions %v", real.Users[3].Extensions)
	}
}

func TestAllOrNothingBadLastRow(t *testing.T) {
	st := openStore(t)
	before := snap(t, st)
	csv := peopleCSV(500) + "Zed,Last,NewDept,0999,,\n" // bad extension on the last line
	res, err := run(t, st, csv, false)
	if !isRejected(err) || len(res.Errors) != 1 || !hasIssue(res.Errors, 502, "Number", "") {
		t.Fatalf("err %v, errors %v", err, res.Errors)
	}
	if len(res.Users) != 0 || len(res.DepartmentsCreated) != 0 {
		t.Errorf("a rejected import reports users or departments as created")
	}
	if snap(t, st) != before {
		t.Errorf("store changed: %+v -> %+v", before, snap(t, st))
	}
	// Nothing half-written blocks the corrected file.
	res = mustImport(t, st, strings.Replace(csv, ",0999,", ",,", 1))
	if len(res.Users) != 501 || len(res.DepartmentsCreated) != 5 {
		t.Errorf("corrected import: %d users %d departments", len(res.Users), len(res.DepartmentsCreated))
	}
}

func TestFileErrors(t *testing.T) {
	st := openStore(t)
	cases := []struct {
		name, csv string
		line      int
		part      string
	}{
		{"empty", "", 1, "header row"},
		{"no header", "Anna,de Jong,Sales\n", 1, "FirstName"},
		{"no last name", "FirstName,Department\nA,B\n", 1, "LastName"},
		{"twice", "FirstName,LastName,Email,EmailAddress\n", 1, "twice"},
		{"latin1", "FirstName,LastName\nAnna,Jansen\nJos\xe9,Smit\n", 3, "UTF-8"},
		{"utf16", "\xff\xfeF\x00", 1, "UTF-16"},
		{"quote", "FirstName,LastName\nA,B\n\"C,D\nE\"x,F\n", 4, "CSV syntax"},
	}
	for _, c := range cases {
		res, err := run(t, st, c.csv, false)
		if !isRejected(err) || len(res.Errors) != 1 || res.Errors[0].Line != c.line || !strings.Contains(res.Errors[0].Message+res.Errors[0].Column, c.part) {
			t.Errorf("%s: err %v, errors %v", c.name, err, res.Errors)
		}
	}
	if _, err := Import(st, "nope", strings.NewReader("FirstName,LastName\n"), Options{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown tenant: %v", err)
	}
}

func TestLimits(t *testing.T) {
	st := openStore(t)
	big := strings.NewReader("FirstName,LastName\n" + strings.Repeat("x", MaxBytes))
	if _, err := Import(st, store.DefaultTenant, big, Options{}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over MaxBytes: %v", err)
	}
	rows := "FirstName,LastName\n" + strings.Repeat("a,b\n", MaxRows+1)
	if _, err := run(t, st, rows, true); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "rows") {
		t.Errorf("over MaxRows: %v", err)
	}
}

func TestProgressReported(t *testing.T) {
	st := openStore(t)
	var calls [][2]int
	_, err := Import(st, store.DefaultTenant, strings.NewReader(peopleCSV(1000)),
		Options{Progress: func(d, n int) { calls = append(calls, [2]int{d, n}) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) < 10 || calls[len(calls)-1] != [2]int{1000, 1000} {
		t.Fatalf("progress calls: %d, last %v", len(calls), calls[len(calls)-1])
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] < calls[i-1][0] {
			t.Fatalf("progress went back: %v", calls[i-1:i+1])
		}
	}
}

func TestAllowRoleAndDepartment(t *testing.T) {
	st := openStore(t)
	mustImport(t, st, "FirstName,LastName,Department\nA,One,Sales\n")
	csv := "FirstName,LastName,Department,Role\n" +
		"B,Two,Sales,manager\n" + // allowed
		"C,Three,Sales,<role name=\"system_owners\" />\n" + // role refused
		"D,Four,Finance,\n" // new department refused
	before := snap(t, st)
	res, err := Import(st, store.DefaultTenant, strings.NewReader(csv), Options{
		AllowRole: func(r store.Role) error {
			if r.Rank() > store.RoleManager.Rank() {
				return errors.New("above your own role")
			}
			return nil
		},
		AllowDepartment: func(name, id string) error {
			if id == "" {
				return errors.New("you may not create departments")
			}
			return nil
		},
	})
	if !isRejected(err) || len(res.Errors) != 2 || !hasIssue(res.Errors, 3, "Role", "above your own role") ||
		!hasIssue(res.Errors, 4, "Department", "may not create") {
		t.Fatalf("err %v errors %v", err, res.Errors)
	}
	if snap(t, st) != before {
		t.Error("refused import wrote")
	}
}

// TestImportRefusesWeakPINs: a file's PIN follows the tenant's policy like one set over
// the API (issue 12 point 8): long enough, no runs, no repeats; the error names the PIN
// column and never the PIN.
func TestImportRefusesWeakPINs(t *testing.T) {
	st := openStore(t)
	before := snap(t, st)
	csv := "First Name;Last Name;Number;PIN\n" +
		"Anna;de Jong;301;123456\n" + // 2
		"Bram;Jansen;302;000000\n" + // 3
		"Daan;Visser;303;65432109\n" + // 4
		"Emma;Bakker;304;48291\n" + // 5: shorter than the default 6
		"Femke;Smit;305;305305\n" + // 6
		"Gijs;Meijer;306;482916\n" // 7: good
	res, err := run(t, st, csv, false)
	if !isRejected(err) {
		t.Fatalf("err %v", err)
	}
	for line := 2; line <= 6; line++ {
		if !hasIssue(res.Errors, line, "PIN", "") {
			t.Errorf("no PIN error at line %d: %v", line, res.Errors)
		}
	}
	if len(res.Errors) != 5 {
		t.Errorf("%d errors, want 5: %v", len(res.Errors), res.Errors)
	}
	for _, pin := range []string{"123456", "000000", "65432109", "48291", "305305"} {
		if strings.Contains(issuesText(res.Errors), pin) {
			t.Errorf("PIN %s echoed in %v", pin, res.Errors)
		}
	}
	if snap(t, st) != before {
		t.Error("a rejected import wrote")
	}
}

func checkPassword(st *store.Store, pw, hash string) bool {
	ok, err := st.Secrets().CheckPassword(context.Background(), "", pw, hash)
	return ok && err == nil
}
