package sip

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/internal/testkit"
	"github.com/dialtone/dialtone/store"
)

// storedAORs lists the AORs with bindings in the store (keys t/{slug}/reg/{aor}).
func storedAORs(t *testing.T, st *store.Store, slug string) []string {
	t.Helper()
	prefix := "t/" + slug + "/reg/"
	var out []string
	if err := st.Keys(prefix, func(k string, _ []byte) bool {
		out = append(out, strings.TrimPrefix(k, prefix))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitStored waits until the stored AORs of acme are want (the flusher writes behind).
func waitStored(t *testing.T, st *store.Store, want ...string) {
	t.Helper()
	var got []string
	testkit.Eventually(t, 3*time.Second, fmt.Sprintf("stored AORs %q", want), func() bool {
		got = storedAORs(t, st, "acme")
		return strings.Join(got, ",") == strings.Join(want, ",")
	})
}

// TestBindingsRemovedWithExtensionAndUser: taking an extension away from a user drops the
// bindings of its SIP account from memory and from the store; deleting the user drops
// the rest. Neither comes back after a restart, and neither account registers again.
func TestBindingsRemovedWithExtensionAndUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var user store.User
	err := e.st.Update(func(tx *store.Tx) error {
		ext, err := tx.Extension("acme", "201")
		if err != nil {
			return err
		}
		prev, err := tx.User("acme", ext.UserID)
		if err != nil {
			return err
		}
		user = prev
		user.Extensions = append([]string{}, prev.Extensions...)
		user.Extensions = append(user.Extensions, "202")
		return tx.SaveUser(prev, user)
	})
	if err != nil {
		t.Fatal(err)
	}
	ext2, err := e.st.Extension("acme", "202")
	if err != nil {
		t.Fatal(err)
	}
	pass2, err := e.st.SIPPassword(ext2)
	if err != nil {
		t.Fatal(err)
	}
	p1 := newPhone(t, e, e.user, e.pass, e.domain)
	p2 := newPhone(t, e, ext2.SIPUsername, pass2, e.domain)
	if res := p1.register(e.user); res == nil || res.StatusCode != 200 {
		t.Fatalf("201 registers: %v", res)
	}
	if res := p2.register(ext2.SIPUsername); res == nil || res.StatusCode != 200 {
		t.Fatalf("202 registers: %v", res)
	}
	both := []string{e.user, ext2.SIPUsername}
	if both[0] > both[1] {
		both[0], both[1] = both[1], both[0]
	}
	waitStored(t, e.st, both...)

	// Extension 202 taken away from the user.
	err = e.st.Update(func(tx *store.Tx) error {
		prev, err := tx.User("acme", user.ID)
		if err != nil {
			return err
		}
		next := prev
		next.Extensions = []string{"201"}
		return tx.SaveUser(prev, next)
	})
	if err != nil {
		t.Fatal(err)
	}
	bs := e.srv.Registrations("acme")
	if len(bs) != 1 || bs[0].Username != e.user {
		t.Fatalf("after removing extension 202: %+v", bs)
	}
	waitStored(t, e.st, e.user)
	if res := p2.register(ext2.SIPUsername); res == nil || res.StatusCode != 403 {
		t.Fatalf("removed extension registers: %v", res)
	}

	// The user deleted.
	if err := e.st.Update(func(tx *store.Tx) error { _, err := tx.DeleteUser("acme", user.ID); return err }); err != nil {
		t.Fatal(err)
	}
	if bs := e.srv.Registrations("acme"); len(bs) != 0 {
		t.Fatalf("after deleting the user: %+v", bs)
	}
	waitStored(t, e.st)
	if res := p1.register(e.user); res == nil || res.StatusCode != 403 {
		t.Fatalf("deleted user registers: %v", res)
	}

	// A restart brings nothing back.
	srv := e.restarted(t)
	if bs := srv.Registrations("acme"); len(bs) != 0 {
		t.Fatalf("after restart: %+v", bs)
	}
}
