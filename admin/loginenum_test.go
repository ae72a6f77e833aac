package admin

import "testing"

// TestLoginWrongTenantSpendsACheck: a login naming a tenant in which the email has no
// account costs a password check like one for an unknown email, so neither the answer
// nor its time tells that the email exists in some other tenant.
func TestLoginWrongTenantSpendsACheck(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sec := e.st.Secrets()
	for _, body := range []map[string]string{
		{"email": "nobody@example.net", "password": "a wrong password"},
		{"email": "admin@localhost", "password": "a wrong password", "tenant": "no-such-tenant"},
		{"email": "admin@localhost", "password": adminPassword, "tenant": "no-such-tenant"},
	} {
		before := sec.PasswordHashes()
		a := e.do("", "POST", "/api/v1/auth/login", body)
		if a.status != 401 {
			t.Fatalf("%v: %d %s", body, a.status, a.body)
		}
		if spent := sec.PasswordHashes() - before; spent != 1 {
			t.Errorf("%v: %d password hashes spent, want 1 (as for an unknown email)", body, spent)
		}
	}
}
