package admin

import (
	"encoding/json"
	"fmt"
	"net/url"
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

// TestExternalNumbersList: GET …/external-numbers lists the tenant's DIDs in number order,
// a page at a time, each with its user's name and extensions, and no other tenant's.
func TestExternalNumbersList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	e.tenant("beta")
	e.user("default", store.RoleUser, "", func(u *store.NewUser) {
		u.FirstName, u.LastName, u.Extensions = "Anna", "de Vries", []string{"201"}
		u.ExternalNumbers = []string{"+31201234569", "+31201234567"}
	})
	e.user("default", store.RoleUser, "", func(u *store.NewUser) {
		u.FirstName, u.LastName, u.ExternalNumbers = "Bram", "Jansen", []string{"+31201234568"}
	})
	e.user("beta", store.RoleUser, "", func(u *store.NewUser) { u.ExternalNumbers = []string{"+31301234567"} })

	type did struct {
		Number         string   `json:"number"`
		UserName       string   `json:"user_name"`
		UserExtensions []string `json:"user_extensions"`
	}
	var all []did
	cursor := ""
	pages := 0
	for {
		var page struct {
			Items      []did  `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		json.Unmarshal(e.must(200, tok, "GET", "/api/v1/tenants/default/external-numbers?limit=2&cursor="+url.QueryEscape(cursor), nil).body, &page)
		all = append(all, page.Items...)
		pages++
		if page.NextCursor == "" || pages > 3 {
			break
		}
		cursor = page.NextCursor
	}
	want := []did{{"+31201234567", "Anna de Vries", []string{"201"}}, {"+31201234568", "Bram Jansen", nil}, {"+31201234569", "Anna de Vries", []string{"201"}}}
	if fmt.Sprint(all) != fmt.Sprint(want) || pages != 2 {
		t.Errorf("external numbers in %d pages: %v, want %v in 2", pages, all, want)
	}
	e.must(400, tok, "GET", "/api/v1/tenants/default/external-numbers?limit=0", nil)
}
