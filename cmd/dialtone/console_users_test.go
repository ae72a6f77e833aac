package main

import (
	"bytes"
	"image"
	"image/color"
	_ "image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestConsoleUsers walks the Users screens in one browser, as an admin would: add a
// user through the form (a field error first, shown at its field), assign a number and
// a phone with the two-column pickers and find them saved through the API, tick an extra
// permission, view as the user (banner on the page, the audit naming both, then back),
// and delete them after the confirmation lists what goes. Then, as an owner, a
// permission they lack is offered disabled with its reason. Every screen passes
// a11yCheck. With DIALTONE_SCREENSHOTS=$PWD/docs it takes the README's
// console-users.png and console-user.png.
func TestConsoleUsers(t *testing.T) {
	e := startMain(t)
	b := newBrowser(t, e, "")
	// A few colleagues and a department, so the list has something to sort and group.
	var sales struct{ ID string }
	e.call("POST", "/api/v1/tenants/default/departments", map[string]any{"name": "Sales"}, 201, &sales)
	for _, n := range [][2]string{{"Bram", "Bakker"}, {"Eva", "Visser"}, {"Joost", "Smit"}} {
		e.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": n[0], "last_name": n[1],
			"department_id": sales.ID}, 201, nil)
	}
	e.call("POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "80:5e:c0:12:34:56"}, 201, nil)

	b.login("admin@localhost", testAdminPassword, "#/users")
	b.do("users listed", waitText("#users-table", "Visser"))
	b.a11yCheck("users list")
	b.do("search", chromedp.SendKeys(chromedp.CSS("#users-search"), "viss"),
		waitJS(`document.querySelectorAll('#users-table tbody tr').length === 1`))
	if got := b.text("#users-table tbody"); !strings.Contains(got, "Eva Visser") {
		t.Fatalf("search for viss shows %q", got)
	}
	b.do("clear search and group by department",
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#users-search'); s.value = ''; s.dispatchEvent(new Event('input')); })()`),
		chromedp.Click(chromedp.CSS("#users-group")),
		waitJS(`(() => { const g = [...document.querySelectorAll('#users-table tr.group')].map((r) => r.textContent);
			return g.length === 2 && g.includes('No department') && g.includes('Sales') && document.querySelectorAll('#users-table tr[data-id]').length === 4; })()`))
	b.screenshot("console-users")

	// Add a user: the API's field error lands at its field, then the user is created.
	b.do("open the add form", chromedp.Click(chromedp.CSS("#users-add")), b.waitRoute("#/users/new"))
	b.a11yCheck("add user")
	b.do("submit without a last name",
		chromedp.SendKeys(chromedp.CSS(`#new-first_name`), "Anna"),
		chromedp.Click(chromedp.CSS(`#user-new button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#new-last_name[aria-invalid="true"]`)))
	if got := b.text("#new-last_name-err"); got == "" {
		t.Fatal("no error next to the last name")
	}
	b.do("create Anna",
		chromedp.SendKeys(chromedp.CSS(`#new-last_name`), "de Vries"),
		chromedp.SendKeys(chromedp.CSS(`#new-email`), "anna@example.com"),
		chromedp.Click(chromedp.CSS(`#user-new button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#new-pin")))
	b.do("open Anna", chromedp.Click(chromedp.CSS("#new-open")), b.waitRoute("#/users/{id}/{tab}"))
	id := eval[string](b, `location.hash.split('/')[2]`)
	b.a11yCheck("profile")
	var anna struct {
		Extensions []string `json:"extensions"`
	}
	e.call("GET", "/api/v1/tenants/default/users/"+id, nil, 200, &anna)

	// Profile: a changed mobile is saved; a photo is cropped square before it is sent.
	b.do("save the mobile", chromedp.SendKeys(chromedp.CSS("#u-mobile"), "+31612345678"),
		chromedp.Click(chromedp.CSS(`#user-profile button[type="submit"]`)), waitText("#toasts", "Saved."))
	var profile struct {
		Mobile string `json:"mobile"`
		Photo  bool   `json:"photo"`
	}
	e.call("GET", "/api/v1/tenants/default/users/"+id, nil, 200, &profile)
	if profile.Mobile != "+31612345678" {
		t.Errorf("mobile after saving: %q", profile.Mobile)
	}
	wide := filepath.Join(t.TempDir(), "wide.png")
	img := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for x := range 300 {
		for y := range 200 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	os.WriteFile(wide, buf.Bytes(), 0o644)
	b.do("choose a photo", chromedp.SetUploadFiles(chromedp.CSS("#u-photo"), []string{wide}),
		chromedp.WaitVisible(chromedp.CSS(".crop canvas")))
	b.a11yCheck("photo crop")
	b.do("use the square", chromedp.Click(chromedp.CSS("#u-photo-save")),
		waitJS(`(() => { const i = document.querySelector('img.photo'); return !!i && !i.hidden && i.complete && i.naturalWidth > 0; })()`))
	code, jpeg := e.raw("GET", "/api/v1/tenants/default/users/"+id+"/photo", "", nil)
	cfg, format, err := image.DecodeConfig(bytes.NewReader(jpeg))
	if code != 200 || err != nil || format != "jpeg" || cfg.Width != cfg.Height {
		t.Errorf("photo after the crop: %d %s %dx%d %v", code, format, cfg.Width, cfg.Height, err)
	}
	b.do("generate a PIN", chromedp.Click(chromedp.CSS("#u-pin-generate")),
		waitJS(`/[0-9]{4,}/.test(document.getElementById('u-pin-shown').textContent)`))

	// Managed accounts: a tenant the admin created (and so manages) is given to Anna.
	e.call("POST", "/api/v1/tenants", map[string]any{"slug": "acme", "name": "Acme"}, 201, nil)
	b.do("managed accounts tab", chromedp.Click(chromedp.CSS("#tab-managed")),
		chromedp.WaitVisible(chromedp.CSS("#mt-acme")))
	b.a11yCheck("managed accounts")
	b.do("give acme", chromedp.Evaluate[chromedp.Void](`document.getElementById('toasts').replaceChildren()`),
		chromedp.Click(chromedp.CSS("#mt-acme")),
		chromedp.Click(chromedp.CSS(`#user-managed button[type="submit"]`)), waitText("#toasts", "Saved."))
	var mt struct {
		Managed []string `json:"managed_tenants"`
	}
	e.call("GET", "/api/v1/tenants/default/users/"+id, nil, 200, &mt)
	if !slices.Equal(mt.Managed, []string{"acme"}) {
		t.Errorf("managed tenants after saving: %v", mt.Managed)
	}

	// Assignments: a second internal number and the phone, moved across and saved.
	b.do("assignments tab", chromedp.Click(chromedp.CSS("#tab-assignments")),
		chromedp.WaitVisible(chromedp.CSS("#pick-phone-available option")))
	b.a11yCheck("assignments")
	if got := b.text("#pick-phone-available"); !strings.Contains(got, "80:5e:c0:12:34:56") || !strings.Contains(got, "never fetched") {
		t.Errorf("available phones: %q", got)
	}
	extra := eval[string](b, `document.querySelector('#pick-ext-available').options[0].value`)
	b.do("pick a number and the phone",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#pick-ext-available').options[0].selected = true`),
		chromedp.Click(chromedp.CSS("#pick-ext-assign")),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#pick-phone-available').options[0].selected = true`),
		chromedp.Click(chromedp.CSS("#pick-phone-assign")),
		waitText("#pick-phone-assigned", "80:5e:c0:12:34:56"),
		chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0); document.getElementById('toasts').replaceChildren()`))
	b.screenshot("console-user")
	b.do("save the assignments", chromedp.Click(chromedp.CSS("#assign-save")),
		chromedp.WaitVisible(chromedp.CSS("#user-assignments[data-saved]")))
	var after struct {
		Extensions []string `json:"extensions"`
	}
	e.call("GET", "/api/v1/tenants/default/users/"+id, nil, 200, &after)
	if !slices.Contains(after.Extensions, extra) || len(after.Extensions) != len(anna.Extensions)+1 {
		t.Errorf("extensions after saving: %v, want %v and %s", after.Extensions, anna.Extensions, extra)
	}
	var phone struct {
		UserID string `json:"user_id"`
	}
	e.call("GET", "/api/v1/tenants/default/phones/805ec0123456", nil, 200, &phone)
	if phone.UserID != id {
		t.Errorf("phone's user after saving: %q, want %s", phone.UserID, id)
	}

	// Access rights: tick an extra permission.
	b.do("access tab", chromedp.Click(chromedp.CSS("#tab-access")), chromedp.WaitVisible(chromedp.CSS("#perm-table")))
	b.a11yCheck("access rights")
	if !eval[bool](b, `(() => { const i = document.getElementById('inh-directory.read'); return i.checked && i.disabled; })()`) {
		t.Error("directory.read is not shown inherited (ticked, greyed)")
	}
	b.do("tick reports.read",
		chromedp.Evaluate[chromedp.Void](`document.getElementById('toasts').replaceChildren()`),
		chromedp.Click(chromedp.CSS(`[id="extra-reports.read"]`)),
		chromedp.Click(chromedp.CSS(`#user-perms button[type="submit"]`)),
		waitText("#toasts", "Saved."))
	var perms struct {
		Extra []string `json:"extra_permissions"`
	}
	e.call("GET", "/api/v1/tenants/default/users/"+id, nil, 200, &perms)
	if !slices.Equal(perms.Extra, []string{"reports.read"}) {
		t.Errorf("extra permissions after saving: %v", perms.Extra)
	}

	// View as Anna: the console reloads as her with the banner; then back.
	// The page reloads: wait on nodes (which chromedp finds again in the new document),
	// not on script (whose context the reload ends).
	b.do("view as", chromedp.Click(chromedp.CSS(".page-head .menu-button")),
		chromedp.Click(chromedp.CSS(`[role="menuitem"]:not(.danger)`)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"] #banner #viewas-return`)))
	if got := b.text("#banner"); !strings.Contains(got, "Viewing as Anna de Vries") || !strings.Contains(got, "Return to your own account") {
		t.Errorf("banner while viewing as Anna: %q", got)
	}
	b.a11yCheck("view as")
	b.do("return", chromedp.Click(chromedp.CSS("#viewas-return")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"] main[data-route="#/users"]`)))
	if eval[bool](b, `!document.getElementById('banner').hidden`) {
		t.Error("the banner stays after returning")
	}
	sawBoth := false
	var audit struct {
		Items []struct {
			Action  string `json:"action"`
			ActorID string `json:"actor_id"`
			ViewAs  string `json:"view_as"`
		} `json:"items"`
	}
	e.call("GET", "/api/v1/tenants/default/audit?limit=1000", nil, 200, &audit)
	for _, ev := range audit.Items {
		if ev.Action == "view_as.request" && ev.ViewAs == id && ev.ActorID != "" && ev.ActorID != id {
			sawBoth = true
		}
	}
	if !sawBoth {
		t.Errorf("no view_as.request audit row naming the admin and Anna: %+v", audit.Items)
	}

	// Delete Anna: the confirmation lists what goes with her.
	b.open("#/users/"+id+"/profile", "#/users/{id}/{tab}")
	b.do("delete", chromedp.Click(chromedp.CSS(".page-head .menu-button")),
		chromedp.Click(chromedp.CSS(`[role="menuitem"].danger`)),
		chromedp.WaitVisible(chromedp.CSS("dialog #delete-preview")))
	b.a11yCheck("delete confirmation")
	list := b.text("#delete-preview")
	for _, want := range append([]string{"80:5e:c0:12:34:56"}, after.Extensions...) {
		if !strings.Contains(list, want) {
			t.Errorf("the confirmation %q does not name %s", list, want)
		}
	}
	b.do("confirm", chromedp.Click(chromedp.CSS("dialog button.danger")), b.waitRoute("#/users"))
	e.call("GET", "/api/v1/tenants/default/users/"+id, nil, 404, nil)

	// An owner of Sales: a permission they lack is offered disabled, with the reason.
	e.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Olaf", "last_name": "Owner",
		"email": "olaf@example.com", "role": "owner", "department_id": sales.ID, "password": "olaf's long password"}, 201, nil)
	var piet struct{ ID string }
	e.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Piet", "last_name": "Puk",
		"department_id": sales.ID}, 201, &piet)
	b.do("log out", chromedp.Click(chromedp.CSS("#logout")), b.waitRoute("#/login"))
	b.login("olaf@example.com", "olaf's long password", "#/users")
	b.open("#/users/"+piet.ID+"/access", "#/users/{id}/{tab}")
	b.a11yCheck("access rights as owner")
	if !eval[bool](b, `document.getElementById('extra-phones.manage').disabled`) {
		t.Error("phones.manage, which an owner lacks, is not disabled")
	}
	why := eval[string](b, `document.getElementById('extra-phones.manage').title + '|' + document.getElementById('why-phones-manage').textContent`)
	if !strings.Contains(why, "phones.manage") || strings.HasPrefix(why, "|") {
		t.Errorf("reason for the disabled phones.manage: %q", why)
	}
	if eval[bool](b, `document.getElementById('extra-reports.read').disabled`) {
		t.Error("reports.read, which an owner holds, is disabled")
	}

	// The owner gives Piet a role through the group's radio buttons.
	b.do("make Piet a manager", chromedp.Click(chromedp.CSS("#role-manager")),
		chromedp.Click(chromedp.CSS(`#user-role button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#role-manager:checked`)), waitText("#toasts", "Saved."))
	var role struct {
		Role string `json:"role"`
	}
	e.call("GET", "/api/v1/tenants/default/users/"+piet.ID, nil, 200, &role)
	if role.Role != "manager" {
		t.Errorf("Piet's role after saving: %q", role.Role)
	}

	// The picker by keyboard alone: arrow to a free number, Shift+Tab to Assign, Enter;
	// Tab on to Save, Enter.
	b.open("#/users/"+piet.ID+"/assignments", "#/users/{id}/{tab}")
	first := eval[string](b, `document.querySelector('#pick-ext-available').options[0].value`)
	b.do("assign by keyboard", chromedp.Focus(chromedp.CSS("#pick-ext-available")),
		chromedp.KeyEvent(kb.ArrowDown),
		chromedp.KeyEvent("\t", chromedp.KeyModifiers(kb.ModifierShift)),
		chromedp.KeyEvent("\t", chromedp.KeyModifiers(kb.ModifierShift)),
		waitJS(`document.activeElement.id === 'pick-ext-assign'`),
		chromedp.KeyEvent("\r"),
		waitText("#pick-ext-assigned", first),
		chromedp.Focus(chromedp.CSS("#assign-save")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS("#user-assignments[data-saved]")))
	var pe struct {
		Extensions []string `json:"extensions"`
	}
	e.call("GET", "/api/v1/tenants/default/users/"+piet.ID, nil, 200, &pe)
	if !slices.Contains(pe.Extensions, first) {
		t.Errorf("Piet's extensions after the keyboard assignment: %v, want %s among them", pe.Extensions, first)
	}

	// On a phone-sized screen the pages fit the width (tables scroll in their own box).
	b.do("phone-sized", chromedp.EmulateViewport(390, 844))
	for _, hash := range []string{"#/users/" + piet.ID + "/assignments", "#/users/" + piet.ID + "/access", "#/users/" + piet.ID + "/profile", "#/users"} {
		route := "#/users/{id}/{tab}"
		if hash == "#/users" {
			route = hash
		}
		b.open(hash, route)
		if w := eval[int](b, `document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
			t.Errorf("%s at 390 px is %d px too wide: %s", hash, w, eval[string](b, `[...document.querySelectorAll('main *')].filter((n) => n.getBoundingClientRect().right > window.innerWidth).map((n) => n.tagName + '#' + n.id + '.' + n.className + ' ' + Math.round(n.getBoundingClientRect().right)).join(', ')`))
		}
	}
	if p := b.problems(); len(p) > 0 {
		t.Errorf("the page reported: %q", p)
	}
}
