package admin

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/dialtone/dialtone/store"
)

// TestListsCarryUserNames: the phones and extensions lists (and one phone) name the
// phone's user, whoever is flex-logged-in at it and each extension's holder, so a table
// of them needs no request per user.
func TestListsCarryUserNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	anna := e.user("default", store.RoleUser, "", func(u *store.NewUser) {
		u.FirstName, u.LastName, u.Extensions = "Anna", "de Vries", []string{"201"}
	})
	bram := e.user("default", store.RoleUser, "", func(u *store.NewUser) {
		u.FirstName, u.LastName, u.Extensions = "Bram", "Jansen", []string{"202"}
	})
	e.must(201, tok, "POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "805ec0000001", "model": "T46U", "user_id": anna.ID})
	e.must(201, tok, "POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "805ec0000002", "model": "T46U", "flex": true})
	err := e.st.Update(func(tx *store.Tx) error {
		return tx.StartFlex(store.FlexSession{Tenant: "default", MAC: "805ec0000002", UserID: bram.ID,
			Extension: "202", Since: time.Now(), How: "admin"})
	})
	if err != nil {
		t.Fatal(err)
	}

	type phone struct {
		MAC      string `json:"mac"`
		UserName string `json:"user_name"`
		LoggedIn *struct {
			UserName string `json:"user_name"`
		} `json:"logged_in"`
	}
	phones := func(tok string) map[string]phone {
		var page struct{ Items []phone }
		json.Unmarshal(e.must(200, tok, "GET", "/api/v1/tenants/default/phones", nil).body, &page)
		out := map[string]phone{}
		for _, p := range page.Items {
			out[p.MAC] = p
		}
		return out
	}
	exts := func(tok string) map[string]string {
		var page struct {
			Items []struct {
				Number   string `json:"number"`
				UserName string `json:"user_name"`
			}
		}
		json.Unmarshal(e.must(200, tok, "GET", "/api/v1/tenants/default/extensions", nil).body, &page)
		out := map[string]string{}
		for _, x := range page.Items {
			out[x.Number] = x.UserName
		}
		return out
	}

	ps := phones(tok)
	if got := ps["805ec0000001"].UserName; got != "Anna de Vries" {
		t.Errorf("the assigned phone's user_name is %q", got)
	}
	if l := ps["805ec0000002"].LoggedIn; l == nil || l.UserName != "Bram Jansen" {
		t.Errorf("the flex phone's logged_in: %+v", l)
	}
	var one phone
	json.Unmarshal(e.must(200, tok, "GET", "/api/v1/tenants/default/phones/805ec0000001", nil).body, &one)
	if one.UserName != "Anna de Vries" {
		t.Errorf("GET one phone: user_name %q", one.UserName)
	}
	if x := exts(tok); x["201"] != "Anna de Vries" || x["202"] != "Bram Jansen" {
		t.Errorf("extensions' user_name: %v", x)
	}

}
