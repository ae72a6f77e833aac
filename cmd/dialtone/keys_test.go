package main

import (
	"testing"
)

// TestFlexPhoneShowsUserKeys: a flex phone's config carries the BLF and speed-dial keys
// of the user logged in there, and none once they log out.
func TestFlexPhoneShowsUserKeys(t *testing.T) {
	e := startMain(t)
	var anna struct{ ID string }
	e.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Anna", "last_name": "A",
		"extensions": []string{"201"}, "pin": "246813"}, 201, &anna)
	e.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Bea", "last_name": "B", "extensions": []string{"203"}}, 201, nil)
	e.call("PUT", "/api/v1/tenants/default/users/"+anna.ID+"/keys", []map[string]string{{"type": "blf", "value": "203", "label": "Bea"}}, 200, nil)
	const mac = "805ec0000301"
	e.newFlexPhone(mac)
	var tenant struct {
		ProvisioningToken string `json:"provisioning_token"`
	}
	e.call("GET", "/api/v1/tenants/default", nil, 200, &tenant)
	cfg := func() map[string]string {
		return yealinkKeys(e.fetch("/p/"+tenant.ProvisioningToken+"/"+mac+".cfg", "Yealink SIP-T46U 108.86.0.20 "+mac))
	}
	if k := cfg(); k["linekey.2.type"] == "16" {
		t.Fatalf("the guest config has Anna's BLF key: %v", k)
	}
	e.call("POST", "/api/v1/tenants/default/phones/"+mac+"/login", map[string]string{"extension": "201", "pin": "246813"}, 200, nil)
	if k := cfg(); k["linekey.1.type"] != "15" || k["linekey.2.type"] != "16" || k["linekey.2.value"] != "203" || k["linekey.2.label"] != "Bea" {
		t.Fatalf("after Anna's login: linekey.1 %q, linekey.2 %q %q %q", k["linekey.1.type"], k["linekey.2.type"], k["linekey.2.value"], k["linekey.2.label"])
	}
	e.call("POST", "/api/v1/tenants/default/phones/"+mac+"/logout", nil, 200, nil)
	if k := cfg(); k["linekey.2.type"] == "16" {
		t.Fatalf("after the logout the BLF key stays: %v", k["linekey.2.value"])
	}
}
