package admin

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/dialtone/dialtone/store"
)

// TestDeletePreview: GET …/users/{id}/delete-preview lists what the delete takes (the
// extension, the external number, the phone, the photo, the session) and changes
// nothing; the delete then frees exactly that; the preview refuses what the delete
// refuses.
func TestDeletePreview(t *testing.T) {
	e := newEnv(t)
	tok := e.adminToken()
	u := e.user("default", store.RoleUser, "", func(n *store.NewUser) {
		n.Extensions = []string{"1234"}
		n.ExternalNumbers = []string{"+31201234567"}
		n.Email = "anna@example.com"
	})
	e.session(u)
	e.must(201, tok, "POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "805ec0aabbcc", "user_id": u.ID})
	if err := e.st.Update(func(tx *store.Tx) error { return tx.SavePhoto("default", u.ID, []byte{0xff, 0xd8, 0xff, 0xd9}) }); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/tenants/default/users/" + u.ID
	var p store.DeletePreview
	for range 2 { // reading it twice: the first changed nothing
		if err := json.Unmarshal(e.must(200, tok, "GET", path+"/delete-preview", nil).body, &p); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(p.Extensions, []string{"1234"}) || !slices.Equal(p.ExternalNumbers, []string{"+31201234567"}) ||
		!slices.Equal(p.Phones, []string{"805ec0aabbcc"}) || !p.Photo || p.Sessions != 1 {
		t.Fatalf("preview %+v", p)
	}
	// The free list does not offer 1234 before the delete, and does after.
	free := func() []string {
		var page struct{ Items []struct{ Number string } }
		json.Unmarshal(e.must(200, tok, "GET", "/api/v1/tenants/default/extensions?free=true&cursor=1233&limit=2", nil).body, &page)
		var out []string
		for _, it := range page.Items {
			out = append(out, it.Number)
		}
		return out
	}
	if got := free(); slices.Contains(got, "1234") {
		t.Fatalf("free extensions before the delete: %v", got)
	}
	var phones struct{ Items []struct{ MAC string } }
	json.Unmarshal(e.must(200, tok, "GET", "/api/v1/tenants/default/phones?user_id="+u.ID, nil).body, &phones)
	if len(phones.Items) != 1 || phones.Items[0].MAC != "805ec0aabbcc" {
		t.Fatalf("phones of the user: %+v", phones)
	}
	e.must(204, tok, "DELETE", path, nil)
	if got := free(); !slices.Equal(got, []string{"1234", "1235"}) {
		t.Fatalf("free extensions after the delete: %v, want 1234 and 1235", got)
	}
	json.Unmarshal(e.must(200, tok, "GET", "/api/v1/tenants/default/phones?unassigned=true", nil).body, &phones)
	if len(phones.Items) != 1 || phones.Items[0].MAC != "805ec0aabbcc" {
		t.Fatalf("unassigned phones after the delete: %+v", phones)
	}
	if a := e.do(tok, "GET", path+"/delete-preview", nil); a.status != 404 {
		t.Fatalf("preview of a deleted user: %d %s", a.status, a.body)
	}
	// Oneself: refused as the delete is.
	var me struct{ ID string }
	json.Unmarshal(e.must(200, tok, "GET", "/api/v1/me", nil).body, &me)
	if a := e.do(tok, "GET", "/api/v1/tenants/default/users/"+me.ID+"/delete-preview", nil); a.status != 403 {
		t.Fatalf("preview of oneself: %d %s", a.status, a.body)
	}
}
