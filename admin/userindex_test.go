package admin

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dialtone/dialtone/store"
)

// searchIDs answers the ids of every user a search with query finds, walking the pages.
func (e *env) searchIDs(tok, query string) []string {
	e.t.Helper()
	var ids []string
	cursor := ""
	for {
		q := query
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		p, _ := e.userPage(tok, q)
		for _, it := range p.Items {
			ids = append(ids, it["id"].(string))
		}
		if p.NextCursor == "" {
			return ids
		}
		cursor = p.NextCursor
	}
}

// checkSearchSeesChanges: after the index of the tenant is loaded, each change made
// through the API is in the very next search (no wait, no retry): a user's new name and
// department, a department's new name in the department order, a new user, a deleted one.
func checkSearchSeesChanges(t *testing.T, e *env, tok string, depts []string) {
	t.Helper()
	users := "/api/v1/tenants/default/users"
	found := e.searchIDs(tok, "q=user09999")
	if len(found) != 1 {
		t.Fatalf("q=user09999 found %v", found)
	}
	id := found[0]

	e.must(200, tok, "PATCH", users+"/"+id, map[string]any{"last_name": "Zwart 09999"})
	if got := e.searchIDs(tok, "q=zwart"); !slices.Equal(got, []string{id}) {
		t.Errorf("after renaming to Zwart, q=zwart found %v, want [%s]", got, id)
	}
	if got := e.searchIDs(tok, "q="+url.QueryEscape("bos 09999")); len(got) != 0 {
		t.Errorf("after renaming, the old name still finds %v", got)
	}
	if p, _ := e.userPage(tok, "sort=-last_name&limit=1"); len(p.Items) != 1 || p.Items[0]["id"] != id {
		t.Errorf("Zwart is not first by last name descending: %v", p.Items)
	}

	e.must(200, tok, "PATCH", users+"/"+id, map[string]any{"department_id": depts[1]})
	if got := e.searchIDs(tok, "q=user09999&department_id="+depts[1]); !slices.Equal(got, []string{id}) {
		t.Errorf("after the move, the new department's search found %v", got)
	}
	if got := e.searchIDs(tok, "q=user09999&department_id="+depts[0]); len(got) != 0 {
		t.Errorf("after the move, the old department's search found %v", got)
	}

	// Finance (depts[2]) renamed Zuid: its members now come first in the descending
	// department order, where Support's did.
	e.must(200, tok, "PATCH", "/api/v1/tenants/default/departments/"+depts[2], map[string]any{"name": "Zuid"})
	if p, _ := e.userPage(tok, "sort=-department&limit=1"); len(p.Items) != 1 || p.Items[0]["department_id"] != depts[2] {
		t.Errorf("after renaming Finance to Zuid, first by department descending is %v", p.Items)
	}

	nu := e.must(201, tok, "POST", users, map[string]any{"first_name": "Xavier", "last_name": "Quist"}).json(t)["id"].(string)
	if got := e.searchIDs(tok, "q=quist"); !slices.Equal(got, []string{nu}) {
		t.Errorf("a new user: q=quist found %v, want [%s]", got, nu)
	}
	e.must(204, tok, "DELETE", users+"/"+nu, nil)
	if got := e.searchIDs(tok, "q=quist"); len(got) != 0 {
		t.Errorf("a deleted user is still found: %v", got)
	}
}

// TestUserIndexFollowsWrites: users created, renamed and deleted while the index loads
// and while searches run end in an index equal to the store: a walk of every page by last
// name finds exactly the stored users in the order a fresh sort of them gives.
func TestUserIndexFollowsWrites(t *testing.T) {
	e := newEnv(t)
	tok := e.adminToken()
	depts := []string{e.dept("default", "Sales"), e.dept("default", "Support")}
	fillUsers(t, e, 2000, depts)

	var wg sync.WaitGroup
	var werr error
	wg.Go(func() {
		for i := range 300 {
			werr = e.st.Update(func(tx *store.Tx) error {
				_, _, err := tx.CreateUser("default", store.NewUser{FirstName: "New", LastName: fmt.Sprintf("Person %03d", i),
					PIN: "482915", Extensions: []string{}, DepartmentID: depts[i%2]})
				if err != nil {
					return err
				}
				var old store.User
				found := false
				err = tx.EachUser("default", func(x store.User) bool { // one of user0000i…: renamed or deleted (200 of them)
					if x.Role == store.RoleUser && strings.HasPrefix(x.Email, fmt.Sprintf("user%04d", i)) {
						old, found = x, true
						return false
					}
					return true
				})
				if err != nil || !found {
					return err
				}
				if i%2 == 0 {
					_, err = tx.DeleteUser("default", old.ID)
					return err
				}
				next := old
				next.LastName = "Renamed " + old.LastName
				return tx.SaveUser(old, next)
			})
			if werr != nil {
				return
			}
		}
	})
	for range 20 { // the first of these loads the index while the writes go on
		e.userPage(tok, "q=person&sort=last_name&limit=50")
	}
	wg.Wait()
	if werr != nil {
		t.Fatal(werr)
	}

	type row struct{ key, id string }
	var want []row
	err := e.st.View(func(tx *store.Tx) error {
		return tx.EachUser("default", func(u store.User) bool {
			want = append(want, row{strings.ToLower(u.LastName + " " + u.FirstName), u.ID})
			return true
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(want, func(a, b row) int { return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.id, b.id)) })
	wantIDs := make([]string, len(want))
	for i, r := range want {
		wantIDs[i] = r.id
	}
	got := e.searchIDs(tok, "sort=last_name&limit=500")
	if len(wantIDs) != 2001+300-100 {
		t.Fatalf("the store holds %d users, want 2201", len(wantIDs))
	}
	if !slices.Equal(got, wantIDs) {
		t.Fatalf("the index's last-name order (%d users) differs from the store's (%d users)", len(got), len(wantIDs))
	}
	if got := e.searchIDs(tok, "q=renamed&sort=-email&limit=100"); len(got) != 100 {
		t.Errorf("q=renamed found %d users, want 100", len(got))
	}
}

// TestUserIndexBudget: past its budget the index drops the least recently searched
// tenant's users, and that tenant's next search loads them again, current.
func TestUserIndexBudget(t *testing.T) {
	e := newEnv(t)
	tok := e.adminToken()
	e.tenant("acme")
	acmeTok := e.session(e.user("acme", store.RoleOwner, ""))
	for range 3 {
		e.user("default", store.RoleUser, "")
	}
	e.user("acme", store.RoleUser, "")
	e.user("acme", store.RoleUser, "")
	e.api.users.budget = 5 // each tenant alone fits, both do not
	held := func() []string {
		e.api.users.mu.Lock()
		defer e.api.users.mu.Unlock()
		var slugs []string
		for s := range e.api.users.tenants {
			slugs = append(slugs, s)
		}
		slices.Sort(slugs)
		return slugs
	}
	count := func(slug string) int {
		tk := tok
		if slug == "acme" {
			tk = acmeTok
		}
		a := e.must(200, tk, "GET", "/api/v1/tenants/"+slug+"/users?sort=name", nil)
		return len(a.json(t)["items"].([]any))
	}
	if n := count("default"); n != 4 {
		t.Fatalf("default lists %d users, want 4 (with the admin)", n)
	}
	if n := count("acme"); n != 3 {
		t.Fatalf("acme lists %d users, want 3", n)
	}
	if got := held(); !slices.Equal(got, []string{"acme"}) {
		t.Errorf("the index holds %v, want only acme (default searched less recently)", got)
	}
	e.user("default", store.RoleUser, "") // while default is not held
	if n := count("default"); n != 5 {
		t.Errorf("default lists %d users after its reload, want 5", n)
	}
	if got := held(); !slices.Equal(got, []string{"default"}) {
		t.Errorf("the index holds %v, want only default", got)
	}
}
