package sip

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dialtone/dialtone/store"
	"github.com/emiago/sipgo/sip"
)

// storeFlex is a minimal FlexDesk over the real store for these tests: PIN check with
// the store's keyed hash, the phone bound to the user, a lock after 5 wrong PINs.
type storeFlex struct {
	st    *store.Store
	mu    sync.Mutex
	wrong map[string]int
}

func (f *storeFlex) Login(ctx context.Context, l FlexLogin) error {
	f.mu.Lock()
	locked := f.wrong[l.Tenant+"/"+l.Extension] >= 5
	f.mu.Unlock()
	if locked {
		return ErrFlexLocked
	}
	return f.st.Update(func(tx *store.Tx) error {
		ext, err := tx.Extension(l.Tenant, l.Extension)
		if err != nil {
			return ErrFlexWrong
		}
		u, err := tx.User(l.Tenant, ext.UserID)
		if err != nil || !f.st.Secrets().CheckPIN(u.PINOwner(), l.PIN, u.PINHash) {
			f.mu.Lock()
			f.wrong[l.Tenant+"/"+l.Extension]++
			f.mu.Unlock()
			return ErrFlexWrong
		}
		p, err := tx.TenantPhone(l.Tenant, l.MAC)
		if err != nil || !p.Flex {
			return ErrFlexWrong
		}
		next := p
		next.UserID = u.ID
		return tx.SavePhone(p, next)
	})
}

func (f *storeFlex) Logout(ctx context.Context, l FlexLogout) error {
	return f.st.Update(func(tx *store.Tx) error {
		p, err := tx.TenantPhone(l.Tenant, l.MAC)
		if err != nil {
			return err
		}
		next := p
		next.UserID = ""
		return tx.SavePhone(p, next)
	})
}

func (p *phone) inviteMsg(dialled, auth string) string {
	p.cseq++
	var b strings.Builder
	fmt.Fprintf(&b, "INVITE sip:%s@%s SIP/2.0\r\n", dialled, p.domain)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\n", p.addr(), randHex(6))
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\n", p.user, p.domain, randHex(4))
	fmt.Fprintf(&b, "To: <sip:%s@%s>\r\nCall-ID: %s\r\nCSeq: %d INVITE\r\n", dialled, p.domain, randHex(6), p.cseq)
	fmt.Fprintf(&b, "Contact: <sip:%s@%s>\r\n", p.user, p.addr())
	if auth != "" {
		b.WriteString(auth + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

// dial sends an INVITE, answers the 407 and returns the final answer.
func (p *phone) dial(dialled string) *sip.Response {
	p.t.Helper()
	res := p.send(p.inviteMsg(dialled, ""))
	if res == nil || res.StatusCode != 407 {
		return res
	}
	return p.send(p.inviteMsg(dialled, p.authorization(res, "INVITE", "sip:"+dialled+"@"+p.domain, "", 1)))
}

func TestFlexLogin(t *testing.T) {
	t.Parallel()
	e := flexEnv(t)
	ph, guest := flexGuest(t, e, "001565aabbcc")
	if res := guest.register(ph.GuestUsername); res.StatusCode != 200 {
		t.Fatalf("guest register: %d", res.StatusCode)
	}
	if res := guest.dial("201"); res.StatusCode != 403 {
		t.Fatalf("guest dialled a number: %d", res.StatusCode)
	}
	if res := guest.dial("*55*201*000000"); res.StatusCode != 403 || res.Reason != "Wrong extension or PIN" {
		t.Fatalf("wrong PIN: %d %s", res.StatusCode, res.Reason)
	}
	if res := guest.dial("*55*999*482916"); res.StatusCode != 403 || res.Reason != "Wrong extension or PIN" {
		t.Fatalf("wrong extension: %d %s", res.StatusCode, res.Reason)
	}
	if res := guest.dial("*55201*482916"); res.StatusCode != 603 || res.Reason != "Logged in 201" {
		t.Fatalf("login: %d %s", res.StatusCode, res.Reason)
	}
	p, _ := e.st.Phone(ph.MAC)
	if p.UserID == "" {
		t.Fatal("phone not bound to the user")
	}
	if res := guest.dial("*56"); res.StatusCode != 603 || res.Reason != "Logged out" {
		t.Fatalf("logout: %d %s", res.StatusCode, res.Reason)
	}
	for range 4 {
		guest.dial("*55*201*111111")
	}
	if res := guest.dial("*55*201*482916"); res.StatusCode != 403 || res.Reason != "Locked, try later" {
		t.Fatalf("after 5 wrong PINs: %d %s", res.StatusCode, res.Reason)
	}
	// An unauthenticated login attempt gets only a challenge.
	if res := guest.send(guest.inviteMsg("*55*201*482916", "")); res.StatusCode != 407 {
		t.Fatalf("unauthenticated INVITE: %d", res.StatusCode)
	}
}
