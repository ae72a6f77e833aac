package main

import (
	"slices"
	"testing"
)

// A user sees their phones in self-service and logs themselves out of the flex phone
// they are at, without phones.manage or users.manage.
func TestMyPhonesAndFlexLogout(t *testing.T) {
	t.Parallel()
	e := startMain(t)
	var bea struct{ ID string }
	e.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Bea", "last_name": "Flex",
		"email": "bea@e2e.test", "password": "bea's long password", "extensions": []string{"202"}, "pin": "135790"}, 201, &bea)
	e.call("POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "805ec0000003", "model": "T46U", "flex": true}, 201, nil)
	e.call("POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "805ec0000004", "model": "T46U", "user_id": bea.ID}, 201, nil)

	var login struct{ Token string }
	e.call("POST", "/api/v1/auth/login", map[string]string{"email": "bea@e2e.test", "password": "bea's long password"}, 200, &login)
	me := *e
	me.token = login.Token
	me.call("POST", "/api/v1/tenants/default/phones/805ec0000003/login", map[string]string{"extension": "202", "pin": "135790"}, 200, nil)
	// An admin's flex logout is not hers to use.
	me.call("POST", "/api/v1/tenants/default/phones/805ec0000003/logout", nil, 403, nil)

	type myPhone struct {
		MAC      string `json:"mac"`
		Flex     bool   `json:"flex"`
		Assigned bool   `json:"assigned"`
		LoggedIn *struct {
			UserID    string `json:"user_id"`
			Extension string `json:"extension"`
		} `json:"logged_in"`
	}
	var mine struct{ Items []myPhone }
	me.call("GET", "/api/v1/me/phones", nil, 200, &mine)
	i := slices.IndexFunc(mine.Items, func(p myPhone) bool { return p.MAC == "805ec0000003" })
	j := slices.IndexFunc(mine.Items, func(p myPhone) bool { return p.MAC == "805ec0000004" })
	if len(mine.Items) != 2 || i < 0 || j < 0 || !mine.Items[j].Assigned || mine.Items[i].Assigned ||
		mine.Items[i].LoggedIn == nil || mine.Items[i].LoggedIn.UserID != bea.ID || mine.Items[i].LoggedIn.Extension != "202" {
		t.Fatalf("my phones: %+v", mine.Items)
	}

	var out struct {
		LoggedOut []string `json:"logged_out"`
	}
	me.call("POST", "/api/v1/me/flex-logout", nil, 200, &out)
	if !slices.Equal(out.LoggedOut, []string{"805ec0000003"}) {
		t.Fatalf("flex logout: %v", out.LoggedOut)
	}
	var shown struct {
		LoggedIn any `json:"logged_in"`
	}
	e.call("GET", "/api/v1/tenants/default/phones/805ec0000003", nil, 200, &shown)
	if shown.LoggedIn != nil {
		t.Fatalf("still logged in: %v", shown.LoggedIn)
	}
	me.call("POST", "/api/v1/me/flex-logout", nil, 200, &out)
	if len(out.LoggedOut) != 0 {
		t.Fatalf("second logout: %v", out.LoggedOut)
	}
	me.call("GET", "/api/v1/me/phones", nil, 200, &mine)
	if len(mine.Items) != 1 || mine.Items[0].MAC != "805ec0000004" {
		t.Fatalf("my phones after logout: %+v", mine.Items)
	}
}
