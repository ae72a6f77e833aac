package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dialtone/dialtone/internal/testkit"
)

// TestConsoleScreens drives the admin screens in one Chromium, one step after another
// (the browser helpers fail the whole test): a CSV with an error shows
// it at its line and column, a good one imports with the progress bar reaching the end;
// a discovered phone is claimed; a setting the API refuses shows its error at the field;
// a phone's fetch log shows; every screen passes the accessibility check; a System Owner
// creates a tenant and an installer switches to it from the tenant menu; a user with role
// user logs themselves out of the flex phone they are at and changes their language on
// their own page, and the console turns Dutch.
//
// With DIALTONE_SCREENSHOTS=$PWD/docs it writes console-import.png and console-phones.png there.
func TestConsoleScreens(t *testing.T) {
	t.Parallel()
	e := startMain(t)
	b := newBrowser(t, e, "")
	dir := t.TempDir()
	writeCSV := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// The README's pictures, as the browser helper's screenshot takes them, but of the
	// 1280×900 viewport from the top: a long report would make a huge full-page picture.
	screenshot := func(name string) {
		dir := os.Getenv("DIALTONE_SCREENSHOTS")
		if dir == "" {
			return
		}
		b.do("scroll to the top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0); document.querySelectorAll('.toast').forEach((n) => n.remove())`))
		png := runB(b, "screenshot "+name, chromedp.CaptureScreenshot())
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// A phone of the tenant, and an unknown one that asked for its file (discovered).
	e.call("POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "805ec0000010", "model": "T46U", "flex": true}, 201, nil)
	var tenant struct {
		ProvisioningToken string `json:"provisioning_token"`
	}
	e.call("GET", "/api/v1/tenants/default", nil, 200, &tenant)
	req, _ := http.NewRequest("GET", e.url("/p/"+tenant.ProvisioningToken+"/805ec0ddeeff.cfg"), nil)
	req.Header.Set("User-Agent", "Yealink SIP-T46U 108.86.0.20 80:5e:c0:dd:ee:ff")
	if res, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		res.Body.Close()
	}
	testkit.Eventually(t, 10*time.Second, "the unknown phone discovered", func() bool {
		var page struct{ Items []struct{ MAC string } }
		e.call("GET", "/api/v1/tenants/default/discovered-phones", nil, 200, &page)
		return len(page.Items) == 1
	})

	b.login("admin@localhost", testAdminPassword, "#/users")

	{ // import
		b.open("#/import", "#/import")
		b.a11yCheck("import")
		bad := writeCSV("bad.csv", "FirstName,LastName,EmailAddress\nAnn,Smith,ann@screens.test\nCarl,,carl@screens.test\n")
		b.do("check a file with an error",
			chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{bad}),
			chromedp.Click(chromedp.CSS("#import-check")),
			chromedp.WaitVisible(chromedp.CSS("#import-errors")))
		cells := eval[[]string](b, `[...document.querySelectorAll('#import-errors tbody tr')].map((r) => [...r.cells].map((c) => c.textContent).join('|'))`)
		if len(cells) != 1 || !strings.HasPrefix(cells[0], "3|LastName|") {
			t.Fatalf("errors table: %q; want line 3, column LastName", cells)
		}
		if eval[bool](b, `!document.getElementById('import-run').disabled`) {
			t.Error("Import is offered for a file that failed its check")
		}

		const rows = 400
		var good strings.Builder
		good.WriteString("FirstName;LastName;Department\n")
		for i := range rows {
			fmt.Fprintf(&good, "Imported%d;Person%d;Sales\n", i, i)
		}
		p := writeCSV("good.csv", good.String())
		b.do("check a good file",
			chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{p}),
			chromedp.Click(chromedp.CSS("#import-check")),
			chromedp.WaitVisible(chromedp.CSS("#import-summary")),
			chromedp.WaitEnabled(chromedp.CSS("#import-run")))
		if n := b.count("#import-rows tbody tr"); n != rows {
			t.Errorf("dry run lists %d rows, want %d", n, rows)
		}
		b.do("import it",
			chromedp.Click(chromedp.CSS("#import-run")),
			chromedp.WaitVisible(chromedp.CSS(`#import-summary`)),
			chromedp.WaitVisible(chromedp.CSS(`#import-rows`)))
		done := eval[[]float64](b, `(() => { const p = document.getElementById('import-progress'); return [p.value, p.max]; })()`)
		if done[0] != rows || done[1] != rows {
			t.Errorf("progress bar at %v of %v, want %d of %d", done[0], done[1], rows, rows)
		}
		if got := b.text("#import-progress + .progress-text"); !strings.Contains(got, "Done") {
			t.Errorf("progress text %q", got)
		}
		if pin := b.text("#import-rows tbody tr td:nth-child(5)"); len(pin) < 4 {
			t.Errorf("generated PIN not shown: %q", pin)
		}
		var list struct {
			Items []struct {
				FirstName string `json:"first_name"`
			}
		}
		e.call("GET", "/api/v1/tenants/default/users?limit=1000", nil, 200, &list)
		if len(list.Items) != rows+1 {
			t.Errorf("%d users after the import, want %d", len(list.Items), rows+1)
		}
		b.a11yCheck("import (report)")
		screenshot("console-import")
	}

	{ // phones
		b.open("#/phones", "#/phones")
		if got := b.text("#phones-table"); !strings.Contains(got, "805ec0000010") || !strings.Contains(got, "T46U") {
			t.Errorf("phones table: %q", got)
		}
		b.a11yCheck("phones")
		b.do("claim the discovered phone",
			chromedp.Click(chromedp.CSS(`#discovered-table button[aria-label="Claim 805ec0ddeeff"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#discovered-table td.empty`)))
		testkit.Eventually(t, 10*time.Second, "the claimed phone listed", func() bool {
			return strings.Contains(b.text("#phones-table"), "805ec0ddeeff")
		})
		screenshot("console-phones")
		// Its fetch log: the file it asked for while unknown.
		b.do("open the claimed phone",
			chromedp.Click(chromedp.CSS(`#phones-table button[data-mac="805ec0ddeeff"]`)),
			chromedp.WaitVisible(chromedp.CSS(`dialog #phone-fetch-log`)))
		if got := b.text("#phone-fetch-log"); !strings.Contains(got, "805ec0ddeeff.cfg") || !strings.Contains(got, "404") {
			t.Errorf("fetch log: %q", got)
		}
		b.a11yCheck("phone dialog")
		b.do("close the phone", chromedp.Evaluate[chromedp.Void](`document.querySelector('dialog').close()`))
		// Flex on from the list: the phone now says who is logged in (nobody).
		b.do("flex on", chromedp.Click(chromedp.CSS(`#phones-table input[data-flex="805ec0ddeeff"]`)))
		testkit.Eventually(t, 10*time.Second, "the phone flex", func() bool {
			var p struct{ Flex bool }
			e.call("GET", "/api/v1/tenants/default/phones/805ec0ddeeff", nil, 200, &p)
			return p.Flex
		})
	}

	{ // settings
		b.open("#/settings", "#/settings")
		b.a11yCheck("settings")
		b.do("a PIN length the API refuses",
			chromedp.SetValue(chromedp.CSS("#set-pin_min_length"), "99"),
			chromedp.Click(chromedp.CSS("#settings-save")),
			chromedp.WaitVisible(chromedp.CSS(`#set-pin_min_length[aria-invalid="true"]`)))
		if got := b.text("#set-pin_min_length-err"); got == "" {
			t.Error("no error text at the PIN length field")
		}
	}

	// Every other screen renders, without an error, and passes the accessibility check.
	for _, s := range []struct{ route, table string }{
		{"#/departments", "#departments-table"}, {"#/models", "#models-table"}, {"#/numbers", "#extensions-table"},
		{"#/audit", "#audit-table"}, {"#/outbox", "#outbox-table"}, {"#/tenants", "#tenants-table"}, {"#/me", "#me-phones-table"},
	} {
		b.do("open "+s.route, chromedp.Navigate(b.base+"/"+s.route), b.waitRoute(s.route), chromedp.WaitVisible(chromedp.CSS(s.table)))
		b.a11yCheck(s.route)
		if s.route == "#/audit" && !strings.Contains(b.text("#audit-table"), "users.import") {
			t.Errorf("the audit log lacks the import: %q", b.text("#audit-table"))
		}
	}

	{ // departments: a language of its own, the time zone inherited
		b.open("#/departments", "#/departments")
		b.do("add a department",
			chromedp.SendKeys(chromedp.CSS("#department-add-name"), "Support"),
			chromedp.SetValue(chromedp.CSS("#department-add-language"), "nl"),
			chromedp.Click(chromedp.CSS(`#department-add button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#departments-table button[aria-label="Edit Support"]`)))
		row := eval[string](b, `[...document.querySelectorAll('#departments-table tbody tr')].map((r) => r.textContent).find((s) => s.startsWith('Support'))`)
		if !strings.Contains(row, "nl own") || !strings.Contains(row, "inherited") {
			t.Errorf("department row %q: want its own language and the inherited time zone", row)
		}
	}

	{ // audit: filtered by action on the server, each change as a diff
		b.open("#/audit", "#/audit")
		b.do("filter by action",
			chromedp.SendKeys(chromedp.CSS("#audit-action"), "department."),
			chromedp.Click(chromedp.CSS(`#audit-filter button[type="submit"]`)))
		poll(b, `[...document.querySelectorAll('#audit-table > tbody > tr > td:nth-child(3)')].every((c) => c.textContent.startsWith('department.'))`)
		if got := b.text("#audit-table table.diff"); !strings.Contains(got, "name") || !strings.Contains(got, "Support") {
			t.Errorf("the department's creation as a diff: %q", got)
		}
	}

	{ // models: a firmware upload with its progress bar, then the model's target
		fw := filepath.Join(dir, "T46U-108.86.0.99.rom")
		if err := os.WriteFile(fw, make([]byte, 3<<20), 0o600); err != nil {
			t.Fatal(err)
		}
		b.open("#/models", "#/models")
		b.do("upload firmware",
			chromedp.SetUploadFiles(chromedp.CSS("#fw-file"), []string{fw}),
			chromedp.SetValue(chromedp.CSS("#fw-model"), "T46U"),
			chromedp.SendKeys(chromedp.CSS("#fw-version"), "108.86.0.99"),
			chromedp.Click(chromedp.CSS(`#fw-upload button[type="submit"]`)))
		poll(b, `document.getElementById('firmware-table').textContent.includes('T46U-108.86.0.99.rom')`)
		if p := eval[[]float64](b, `(() => { const p = document.getElementById('fw-progress'); return [p.value, p.max]; })()`); p[0] != 3<<20 || p[1] != 3<<20 {
			t.Errorf("upload progress at %v", p)
		}
		b.do("make it T46U's target",
			chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll('#models-table button')].find((x) => x.textContent.endsWith(' T46U')).click()`),
			chromedp.WaitVisible(chromedp.CSS("#model-target")),
			chromedp.Click(chromedp.CSS("#model-target")))
		poll(b, `[...document.querySelectorAll('#models-table tbody tr')].some((r) => r.textContent.includes('T46U-108.86.0.99.rom'))`)
		b.a11yCheck("models (a model open)")
	}

	{ // tenants
		b.open("#/tenants", "#/tenants")
		b.do("create a tenant",
			chromedp.SendKeys(chromedp.CSS("#tenant-slug"), "acme"),
			chromedp.SendKeys(chromedp.CSS("#tenant-name"), "Acme"),
			chromedp.Click(chromedp.CSS(`#tenant-create button[type="submit"]`)),
			chromedp.WaitReady(chromedp.CSS(`#tenant-switch option[value="acme"]`)))
		b.open("#/phones", "#/phones")
		b.do("switch to acme", chromedp.SetValue(chromedp.CSS("#tenant-switch"), "acme"),
			chromedp.Evaluate[chromedp.Void](`document.getElementById('tenant-switch').dispatchEvent(new Event('change', {bubbles: true}))`),
			chromedp.WaitVisible(chromedp.CSS(`#phones-table td.empty`)))
		if got := b.text("#phones-table"); strings.Contains(got, "805ec0000010") {
			t.Errorf("acme's phones show default's: %q", got)
		}
		b.a11yCheck("phones (acme)")
	}

	{ // an installer: an admin of default who manages acme, switching to it
		e.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Ivo", "last_name": "Installer",
			"email": "ivo@screens.test", "password": "ivo's own long password", "role": "system_admin",
			"managed_tenants": []string{"acme"}}, 201, nil)
		b.do("log out", chromedp.Click(chromedp.CSS("#logout")), b.waitRoute("#/login"))
		b.login("ivo@screens.test", "ivo's own long password", "#/users")
		b.open("#/phones", "#/phones")
		if !strings.Contains(b.text("#phones-table"), "805ec0000010") {
			t.Fatal("the installer's own tenant's phones are not shown first")
		}
		b.do("switch to acme", chromedp.SetValue(chromedp.CSS("#tenant-switch"), "acme"),
			chromedp.Evaluate[chromedp.Void](`document.getElementById('tenant-switch').dispatchEvent(new Event('change', {bubbles: true}))`),
			chromedp.WaitVisible(chromedp.CSS(`#phones-table td.empty`)))
		b.open("#/settings", "#/settings")
		if got := b.text("main h1"); got != "Settings of Acme" {
			t.Errorf("after the switch the settings are %q", got)
		}
	}

	{ // self-service
		e.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Bea", "last_name": "Self",
			"email": "bea@screens.test", "password": "bea's own long password", "language": "en",
			"extensions": []string{"700"}, "pin": "135790"}, 201, nil)
		var login struct{ Token string }
		bea := *e
		bea.call("POST", "/api/v1/auth/login", map[string]string{"email": "bea@screens.test", "password": "bea's own long password"}, 200, &login)
		bea.token = login.Token
		bea.call("POST", "/api/v1/tenants/default/phones/805ec0000010/login", map[string]string{"extension": "700", "pin": "135790"}, 200, nil)

		b.do("log out", chromedp.Click(chromedp.CSS("#logout")), b.waitRoute("#/login"))
		b.login("bea@screens.test", "bea's own long password", "#/me")
		b.a11yCheck("me")
		if got := b.text("main h1"); got != "My account" {
			t.Fatalf("own page title %q", got)
		}
		if got := b.text("#me-phones-table"); !strings.Contains(got, "805ec0000010") || !strings.Contains(got, "As 700") {
			t.Errorf("my phones: %q", got)
		}
		b.do("log me out of the flex phone", chromedp.Click(chromedp.CSS("#me-flex-logout")),
			chromedp.WaitNotVisible(chromedp.CSS("#me-flex-logout")))
		var shown struct {
			LoggedIn any `json:"logged_in"`
		}
		e.call("GET", "/api/v1/tenants/default/phones/805ec0000010", nil, 200, &shown)
		if shown.LoggedIn != nil {
			t.Errorf("still logged in at the flex phone: %v", shown.LoggedIn)
		}
		b.do("choose Dutch", chromedp.SetValue(chromedp.CSS("#me-language"), "nl"),
			chromedp.Click(chromedp.CSS(`#me-language-form button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`html[lang="nl"] main[data-route="#/me"]`)))
		if got := b.text("main h1"); got != "Mijn account" {
			t.Errorf("after choosing Dutch the title is %q", got)
		}
		var me struct{ Language string }
		bea.call("GET", "/api/v1/me", nil, 200, &me)
		if me.Language != "nl" {
			t.Errorf("language saved as %q", me.Language)
		}
		b.a11yCheck("me (nl)")
		// On a phone-sized screen the page fits its width (wide tables scroll in their box).
		b.do("a phone-sized screen", chromedp.EmulateViewport(390, 844), chromedp.Navigate(b.base+"/#/me"), b.waitRoute("#/me"))
		if w := eval[[]float64](b, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
			t.Errorf("#/me at 390 px is %v px wide", w[0])
		}
		b.do("back to 1280", chromedp.EmulateReset())
	}

	for _, p := range b.problems() {
		t.Errorf("the page reported: %s", p)
	}
}

// poll waits until the JavaScript expression is true in the page.
func poll(b *browser, expr string) {
	b.t.Helper()
	runB(b, "wait for "+expr, chromedp.Poll[bool](expr))
}
