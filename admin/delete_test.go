package admin

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/store"
)

// TestDeleteLeavesNothing (issue 7 item 8): a user with everything — extensions, DIDs, a
// phone, a photo, a session, a flex login, queued mail, a set-password link, audit events
// — is deleted through the API; then every key and value of the store and every file of
// the data directory is walked, and nothing may still name the user's id, email,
// extension, DID, SIP user name or phone. Only audit events (the record of the deletion)
// and the phone records themselves (kept, unassigned) may.
func TestDeleteLeavesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := newEnvDir(t, dir)
	tok := e.adminToken()
	const (
		email = "leaves.nothing@example.com"
		ext   = "87654321"
		did   = "+31209876543"
		mac   = "0004f2a1b2c3"
		flex  = "0004f2d4e5f6"
	)
	u := e.must(201, tok, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Leaves", "last_name": "Nothing",
		"email": email, "extensions": []string{ext}, "external_numbers": []string{did}, "password": "a fine password 1"}).json(t)
	id := u["id"].(string)
	e.must(201, tok, "POST", "/api/v1/tenants/default/phones", map[string]any{"mac": mac, "user_id": id})
	guest := e.must(201, tok, "POST", "/api/v1/tenants/default/phones", map[string]any{"mac": flex, "flex": true}).json(t)["guest"].(map[string]any)["sip_username"].(string)
	img := image.NewRGBA(image.Rect(0, 0, 40, 40))
	for i := range 40 {
		img.Set(i, i, color.RGBA{200, 10, 10, 255})
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	e.must(204, tok, "PUT", "/api/v1/tenants/default/users/"+id+"/photo", buf.Bytes())
	utok := e.must(200, "", "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": "a fine password 1"}).json(t)["token"].(string)
	var sipUser string
	err := e.st.Update(func(tx *store.Tx) error {
		x, err := tx.Extension("default", ext)
		if err != nil {
			return err
		}
		sipUser = x.SIPUsername
		now := e.st.Now()
		if err := tx.StartFlex(store.FlexSession{Tenant: "default", MAC: flex, UserID: id, Extension: ext,
			Since: now, Until: now.Add(8 * time.Hour), How: "api"}); err != nil {
			return err
		}
		if _, err := tx.QueueMail(store.OutMail{Tenant: "default", UserID: id, Kind: "welcome", To: email,
			Subject: "Welcome", Body: "your extension " + ext}); err != nil {
			return err
		}
		_, _, err = tx.CreatePasswordLink("default", id, "welcome", 72*time.Hour)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	needles := map[string]string{"id": id, "email": email, "extension": ext, "did": did, "sip username": sipUser, "mac": mac, "flex mac": flex}
	// phoneKey: where a MAC may stay (the phone record, its tenant listing, and the flex
	// phone's own guest SIP account).
	phoneKey := func(k string) bool {
		return strings.HasPrefix(k, "phone/") || strings.HasPrefix(k, "t/default/phone/") || k == "idx/sipuser/"+guest
	}
	leftovers := func() map[string][]string {
		found := map[string][]string{}
		err := e.st.Keys("", func(k string, v []byte) bool {
			if strings.HasPrefix(k, "t/default/audit/") {
				return true
			}
			for what, n := range needles {
				if (what == "mac" || what == "flex mac") && phoneKey(k) {
					continue
				}
				if strings.Contains(k, n) || bytes.Contains(v, []byte(n)) {
					found[what] = append(found[what], k)
				}
			}
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		return found
	}
	// The walk finds all of it before the delete (so it could fail after).
	before := leftovers()
	for what := range needles {
		if len(before[what]) == 0 {
			t.Fatalf("before the delete, the walk finds no %s", what)
		}
	}
	for _, prefix := range []string{"t/default/photo/", "t/default/flex/", "t/default/mail/", "link/", "session/", "t/default/userlink/", "maildue/", "flexdue/"} {
		var n int
		e.st.Keys(prefix, func(string, []byte) bool { n++; return true })
		if n == 0 {
			t.Fatalf("before the delete, nothing under %s", prefix)
		}
	}

	e.must(204, tok, "DELETE", "/api/v1/tenants/default/users/"+id, nil)

	for what, keys := range leftovers() {
		t.Errorf("after the delete, the store still names the user's %s in: %v", what, keys)
	}
	if a := e.do(utok, "GET", "/api/v1/me", nil); a.status != 401 {
		t.Errorf("session survived: %d", a.status)
	}
	// The phones stay, unassigned.
	for _, m := range []string{mac, flex} {
		p := e.must(200, tok, "GET", "/api/v1/tenants/default/phones/"+m, nil).json(t)
		if _, ok := p["user_id"]; ok {
			t.Errorf("phone %s still assigned: %v", m, p)
		}
	}
	// The audit log keeps the deletion.
	var deleted bool
	for _, ev := range e.auditEvents("default") {
		deleted = deleted || (ev.Action == "user.delete" && ev.Subject == id)
	}
	if !deleted {
		t.Error("no user.delete audit event")
	}
	// The data directory: no file outside the database names the user; no file name
	// anywhere does.
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		inDB := strings.HasPrefix(rel, "db"+string(filepath.Separator))
		var body []byte
		if !inDB {
			body, _ = os.ReadFile(path)
		}
		for what, n := range needles {
			if strings.Contains(rel, n) || bytes.Contains(body, []byte(n)) {
				t.Errorf("data directory file %s names the user's %s", rel, what)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
