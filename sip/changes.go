package sip

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dialtone/dialtone/internal/crash"
	"github.com/dialtone/dialtone/store"
)

// onChange follows the store: credentials drop out of the cache, bindings of deleted
// accounts go, and phones whose configuration changed are queued for a check-sync
// NOTIFY. It runs inside the writer's call, so it only touches memory.
func (s *Server) onChange(c store.Change) {
	switch c.Kind {
	case "": // store.OpReload: a change was missed; credentials are read again
		s.accounts.forgetAll()
	case store.KindTenant:
		s.accounts.forgetAll()
		if c.Op == store.OpDelete {
			s.bindings.removeWhere(c.Tenant, func(*Binding) bool { return true })
			return
		}
		old, _ := c.Old.(store.Tenant)
		nw, _ := c.New.(store.Tenant)
		if c.Old != nil && tenantConfigChanged(old, nw) {
			s.resync.add("t:" + c.Tenant)
		}
	case store.KindExtension:
		old, _ := c.Old.(store.Extension)
		nw, _ := c.New.(store.Extension)
		s.accounts.forgetUser(old.SIPUsername)
		s.accounts.forgetUser(nw.SIPUsername)
		if c.Op == store.OpDelete || (c.Old != nil && old.SIPUsername != nw.SIPUsername) {
			// RFC 3261 §10.3: an AOR that no longer exists has no bindings.
			s.bindings.removeWhere(c.Tenant, func(b *Binding) bool { return b.Username == old.SIPUsername })
		}
		uid := nw.UserID
		if c.Op == store.OpDelete {
			uid = old.UserID
		}
		if uid != "" && (c.Op == store.OpDelete || old != nw) {
			s.resync.add("u:" + c.Tenant + "/" + uid)
		}
		if c.Old != nil && old.UserID != "" && old.UserID != nw.UserID {
			s.resync.add("u:" + c.Tenant + "/" + old.UserID)
		}
	case store.KindUser:
		old, _ := c.Old.(store.User)
		nw, _ := c.New.(store.User)
		if c.Op == store.OpDelete {
			s.bindings.removeWhere(c.Tenant, func(b *Binding) bool { return b.UserID == c.ID })
			return
		}
		if c.Old != nil && userConfigChanged(old, nw) {
			s.resync.add("u:" + c.Tenant + "/" + c.ID)
		}
	case store.KindPhone:
		old, _ := c.Old.(store.Phone)
		nw, _ := c.New.(store.Phone)
		s.accounts.forgetUser(old.GuestUsername)
		s.accounts.forgetUser(nw.GuestUsername)
		if c.Op == store.OpDelete {
			s.bindings.removeWhere(c.Tenant, func(b *Binding) bool {
				return old.GuestUsername != "" && b.Username == old.GuestUsername
			})
			return
		}
		if c.Old == nil || phoneConfigChanged(old, nw) {
			s.resync.add("m:" + c.ID)
		}
	case store.KindSetting:
		if _, ok := c.New.(store.ModelProfile); ok {
			s.accounts.forgetTenants() // its sip_digest may have changed
		}
	case store.KindFlex:
		// A logout (or the next user's login): the phone stops ringing for the user who
		// left, whether or not it re-provisions and drops their lines itself — once
		// their registration has carried it the check-sync (it may be its only one).
		if old, ok := c.Old.(store.FlexSession); ok && c.Op == store.OpDelete {
			s.resync.leave(c.Tenant, c.ID, old.UserID)
		} else if nw, ok := c.New.(store.FlexSession); ok {
			s.resync.stay(c.ID, nw.UserID)
		}
		// Someone is waiting at this phone for their lines: no need to wait for a burst
		// to settle (a login's changes arrive together, from one transaction).
		s.resync.addSoon("m:"+c.ID, flexResyncDelay)
	}
}

// tenantConfigChanged: what a tenant change writes into every phone's config.
func tenantConfigChanged(a, b store.Tenant) bool {
	return a.Name != b.Name || a.SIPDomain != b.SIPDomain || a.Language != b.Language ||
		a.Timezone != b.Timezone || a.PhonebookPassword != b.PhonebookPassword ||
		a.PhoneAdminPassword != b.PhoneAdminPassword || !slices.Equal(a.EmergencyNumbers, b.EmergencyNumbers) ||
		!maps.EqualFunc(a.Settings, b.Settings, maps.Equal[map[string]string])
}

func userConfigChanged(a, b store.User) bool {
	return a.FirstName != b.FirstName || a.LastName != b.LastName || a.Language != b.Language ||
		a.Timezone != b.Timezone || a.DepartmentID != b.DepartmentID ||
		!slices.Equal(a.Extensions, b.Extensions) || !slices.Equal(a.ExternalNumbers, b.ExternalNumbers) ||
		!slices.Equal(a.Keys, b.Keys)
}

// phoneConfigChanged ignores what a phone reports about itself on every fetch.
func phoneConfigChanged(a, b store.Phone) bool {
	return a.Make != b.Make || a.Model != b.Model || a.UserID != b.UserID || a.Flex != b.Flex ||
		a.GuestUsername != b.GuestUsername || a.GuestPassword != b.GuestPassword ||
		!maps.Equal(a.Settings, b.Settings)
}

// flexResyncDelay is how long a flex login or logout waits before its check-sync NOTIFY:
// long enough for the phone to take the final answer to its INVITE first.
const flexResyncDelay = 20 * time.Millisecond

// resyncQueue debounces check-sync work: every key (a phone "m:", a user's phones "u:",
// a tenant's phones "t:") is sent once per burst of changes.
type resyncQueue struct {
	s        *Server
	debounce time.Duration
	mu       sync.Mutex
	due      map[string]time.Time
	wake     chan struct{}
	// left: by MAC, the user just logged out of a flex phone, whose lines' bindings
	// from that phone go once the phone's check-sync has its targets (dropLeft).
	left    map[string]flexLeft
	leftSeq uint64
}

type flexLeft struct {
	tenant, user string
	seq          uint64
}

func newResyncQueue(s *Server, debounce time.Duration) *resyncQueue {
	return &resyncQueue{s: s, debounce: debounce, due: make(map[string]time.Time), wake: make(chan struct{}, 1),
		left: make(map[string]flexLeft)}
}

// leave records that user left flex phone mac (one entry per phone: bounded).
func (q *resyncQueue) leave(tenant, mac, user string) {
	if user == "" {
		return
	}
	q.mu.Lock()
	q.leftSeq++
	q.left[mac] = flexLeft{tenant: tenant, user: user, seq: q.leftSeq}
	q.mu.Unlock()
}

// stay: user logged in at mac (again): their lines there are not to be dropped.
func (q *resyncQueue) stay(mac, user string) {
	q.mu.Lock()
	if l, ok := q.left[mac]; ok && l.user == user {
		delete(q.left, mac)
	}
	q.mu.Unlock()
}

// dropLeft removes the bindings from mac of the user who left it, if that is still
// what was recorded when the check-sync now sent began (l).
func (q *resyncQueue) dropLeft(mac string, l flexLeft) {
	q.mu.Lock()
	cur, ok := q.left[mac]
	if ok && cur.seq == l.seq {
		delete(q.left, mac)
	}
	q.mu.Unlock()
	if ok && cur.seq == l.seq {
		q.s.bindings.removeWhere(l.tenant, func(b *Binding) bool { return b.MAC == mac && b.UserID == l.user })
	}
}

func (q *resyncQueue) add(key string) { q.addSoon(key, q.debounce) }

// addSoon queues key to be sent after delay, or sooner if it is already due sooner.
func (q *resyncQueue) addSoon(key string, delay time.Duration) {
	at := time.Now().Add(delay)
	q.mu.Lock()
	if t, ok := q.due[key]; !ok || at.Before(t) {
		q.due[key] = at
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *resyncQueue) run(ctx context.Context) {
	timer := time.NewTimer(q.debounce)
	defer timer.Stop()
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-q.wake:
		}
		now := time.Now()
		var ready []string
		next := now.Add(q.debounce)
		q.mu.Lock()
		for k, t := range q.due {
			if !t.After(now) {
				ready = append(ready, k)
				delete(q.due, k)
			} else if t.Before(next) {
				next = t
			}
		}
		q.mu.Unlock()
		timer.Reset(next.Sub(now)) // Go ≥ 1.23: no stale tick to drain
		macs := map[string]bool{}
		for _, k := range ready {
			for _, m := range q.s.resolveTargets(k) {
				macs[m] = true
			}
		}
		for mac := range macs {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			q.mu.Lock()
			left, leaving := q.left[mac]
			q.mu.Unlock()
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				defer crash.Recover(q.s.log, "sip", "check-sync")
				var targeted func()
				if leaving { // once the NOTIFY's targets are chosen: their copies are sent
					targeted = func() { q.dropLeft(mac, left) }
				}
				err := q.s.notifyPhoneThen(ctx, mac, false, targeted)
				switch {
				case err == nil:
					q.s.log.Debug("check-sync sent", "mac", mac)
				case errors.Is(err, ErrNotRegistered), errors.Is(err, store.ErrNotFound), ctx.Err() != nil:
				default:
					q.s.log.Warn("check-sync failed", "mac", mac, "err", err)
				}
			}()
		}
	}
}

// resolveTargets turns a queue key into MACs (store reads, outside the change callback).
func (s *Server) resolveTargets(key string) []string {
	kind, rest := key[:2], key[2:]
	switch kind {
	case "m:":
		return []string{rest}
	case "u:":
		tenant, uid, _ := strings.Cut(rest, "/")
		macs, _ := s.cfg.Directory.UserPhones(tenant, uid)
		return macs
	case "t:":
		macs, _ := s.cfg.Directory.TenantPhones(rest)
		return macs
	}
	return nil
}
