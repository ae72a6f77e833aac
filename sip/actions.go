package sip

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dialtone/dialtone/internal/crash"
	"github.com/dialtone/dialtone/store"
)

// Remote actions: resync or reboot many phones at once, paced per tenant so that a
// thousand phones are not told in the same second (and do not all come back for their
// configuration and firmware at once).

// Action kinds.
const (
	ActionResync = "resync"
	ActionReboot = "reboot"
)

// States of one phone in an action.
const (
	ActionQueued    = "queued"     // waiting for its turn
	ActionNotified  = "notified"   // the phone answered the NOTIFY with 2xx
	ActionNoBinding = "no_binding" // the phone has no live registration
	ActionFailed    = "failed"     // refused, timed out (RFC 3261 Timer F) or another error
	ActionFetched   = "fetched"    // the phone fetched a file of its own after the NOTIFY
)

// Bounds of the action queue.
const (
	// MaxActionQueue is how many phones may wait in one tenant's queue at once.
	MaxActionQueue = 20000
	// keptActions is how many actions per tenant are kept for GET …/actions/{id}.
	keptActions = 32
	// maxInFlight bounds a tenant's NOTIFY transactions waiting for an answer (a dead
	// phone holds one for Timer F, 32 s): the pace waits when it is reached.
	maxInFlight = 512
	// DefaultActionRate is the pace, in phones per second, when the tenant sets none.
	DefaultActionRate = store.DefaultActionRate
)

// ErrActionQueueFull: the tenant's queue holds MaxActionQueue phones already.
var ErrActionQueueFull = errors.New("the tenant's action queue is full")

// ActionPhone is the result for one phone of an action.
type ActionPhone struct {
	MAC      string     `json:"mac"`
	State    string     `json:"state"`
	Error    string     `json:"error,omitempty"`
	Sent     *time.Time `json:"sent,omitempty"`     // NOTIFY sent
	Answered *time.Time `json:"answered,omitempty"` // final answer or give-up
	Fetched  *time.Time `json:"fetched,omitempty"`  // first fetch after Sent
}

// ActionReport is an action as GET …/phones/actions/{id} shows it.
type ActionReport struct {
	ID      string         `json:"id"`
	Action  string         `json:"action"`
	Rate    int            `json:"rate"` // phones per second
	Created time.Time      `json:"created"`
	Done    bool           `json:"done"` // every phone has left the queued state and been answered
	Counts  map[string]int `json:"counts"`
	Phones  []ActionPhone  `json:"phones"`
}

type action struct {
	id, kind string
	rate     int
	created  time.Time
	phones   []ActionPhone
	index    map[string]int // mac → phones index
	pending  int            // phones not yet answered
}

type actionJob struct {
	a   *action
	mac string
}

// tenantActions is one tenant's paced queue and its recent actions.
type tenantActions struct {
	queue    []actionJob
	running  bool
	inFlight chan struct{}
	recent   []*action // newest last, at most keptActions
}

type actionQueues struct {
	s       *Server
	mu      sync.Mutex
	tenants map[string]*tenantActions
}

func newActionQueues(s *Server) *actionQueues {
	return &actionQueues{s: s, tenants: map[string]*tenantActions{}}
}

// StartAction queues kind ("resync" or "reboot") for the tenant's phones macs, told at
// rate phones per second (DefaultActionRate when ≤ 0), and returns the action's report
// as it starts (every phone queued). Actions of one tenant share one queue and one pace.
func (s *Server) StartAction(tenant, kind string, macs []string, rate int) (ActionReport, error) {
	if kind != ActionResync && kind != ActionReboot {
		return ActionReport{}, fmt.Errorf("action %q: %w", kind, store.ErrInvalid)
	}
	if rate <= 0 {
		rate = DefaultActionRate
	}
	q := s.actions
	a := &action{id: randHex(8), kind: kind, rate: rate, created: s.now().UTC(), index: make(map[string]int, len(macs))}
	for _, m := range macs {
		if _, dup := a.index[m]; dup {
			continue
		}
		a.index[m] = len(a.phones)
		a.phones = append(a.phones, ActionPhone{MAC: m, State: ActionQueued})
	}
	a.pending = len(a.phones)
	q.mu.Lock()
	defer q.mu.Unlock()
	select {
	case <-s.done:
		return ActionReport{}, errors.New("registrar closed")
	default:
	}
	t := q.tenants[tenant]
	if t == nil {
		t = &tenantActions{inFlight: make(chan struct{}, maxInFlight)}
		q.tenants[tenant] = t
	}
	if len(t.queue)+len(a.phones) > MaxActionQueue {
		return ActionReport{}, fmt.Errorf("%w (%d phones waiting, at most %d)", ErrActionQueueFull, len(t.queue), MaxActionQueue)
	}
	for _, p := range a.phones {
		t.queue = append(t.queue, actionJob{a: a, mac: p.MAC})
	}
	t.recent = append(t.recent, a)
	if len(t.recent) > keptActions {
		t.recent = t.recent[len(t.recent)-keptActions:]
	}
	if !t.running && len(t.queue) > 0 {
		t.running = true
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			crash.Restart(s.log, "sip", "phone actions", func() { q.pace(tenant, t) })
		}()
	}
	return a.report(), nil
}

// Action reports one of the tenant's recent actions (false when unknown or forgotten).
func (s *Server) Action(tenant, id string) (ActionReport, bool) {
	q := s.actions
	q.mu.Lock()
	defer q.mu.Unlock()
	if t := q.tenants[tenant]; t != nil {
		for _, a := range t.recent {
			if a.id == id {
				return a.report(), true
			}
		}
	}
	return ActionReport{}, false
}

// PhoneFetched tells the actions that a phone fetched a file of its own at at (the
// provisioner calls it): a phone notified before then is marked fetched.
func (s *Server) PhoneFetched(tenant, mac string, at time.Time) {
	q := s.actions
	q.mu.Lock()
	defer q.mu.Unlock()
	t := q.tenants[tenant]
	if t == nil {
		return
	}
	for _, a := range t.recent {
		i, ok := a.index[mac]
		if !ok {
			continue
		}
		p := &a.phones[i]
		if p.Sent != nil && p.Fetched == nil && !at.Before(*p.Sent) {
			at := at.UTC()
			p.Fetched = &at
			if p.State == ActionNotified || p.State == ActionQueued {
				p.State = ActionFetched
			}
		}
	}
}

// pace sends the tenant's queue, one phone every 1/rate seconds of the action it
// belongs to, until the queue is empty.
func (q *actionQueues) pace(tenant string, t *tenantActions) {
	s := q.s
	defer func() {
		q.mu.Lock()
		t.running = false
		q.mu.Unlock()
	}()
	var last time.Time
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		q.mu.Lock()
		if len(t.queue) == 0 {
			t.running = false
			q.mu.Unlock()
			return
		}
		job := t.queue[0]
		t.queue[0] = actionJob{}
		t.queue = t.queue[1:]
		q.mu.Unlock()
		if !last.IsZero() {
			if wait := time.Until(last.Add(time.Second / time.Duration(job.a.rate))); wait > 0 {
				timer.Reset(wait)
				select {
				case <-timer.C:
				case <-s.done:
					return
				}
			}
		}
		select {
		case t.inFlight <- struct{}{}:
		case <-s.done:
			return
		}
		last = time.Now()
		sent := s.now().UTC()
		q.mu.Lock()
		job.a.phones[job.a.index[job.mac]].Sent = &sent
		q.mu.Unlock()
		go func() {
			defer func() { <-t.inFlight }()
			defer crash.Recover(s.log, "sip", "phone action NOTIFY")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				select {
				case <-s.done:
					cancel()
				case <-ctx.Done():
				}
			}()
			err := s.notifyPhone(ctx, job.mac, job.a.kind == ActionReboot)
			q.answered(job, err)
		}()
	}
}

// answered records the outcome of one phone's NOTIFY.
func (q *actionQueues) answered(job actionJob, err error) {
	now := q.s.now().UTC()
	q.mu.Lock()
	defer q.mu.Unlock()
	p := &job.a.phones[job.a.index[job.mac]]
	p.Answered = &now
	job.a.pending--
	switch {
	case err == nil:
		if p.State == ActionQueued {
			p.State = ActionNotified
		}
	case errors.Is(err, ErrNotRegistered):
		p.State, p.Error = ActionNoBinding, "the phone has no live registration"
	case errors.Is(err, store.ErrNotFound):
		p.State, p.Error = ActionFailed, "the phone was deleted"
	default:
		p.State, p.Error = ActionFailed, err.Error()
	}
}

func (a *action) report() ActionReport {
	r := ActionReport{ID: a.id, Action: a.kind, Rate: a.rate, Created: a.created, Done: a.pending == 0,
		Counts: map[string]int{}, Phones: append([]ActionPhone{}, a.phones...)}
	for _, p := range a.phones {
		r.Counts[p.State]++
	}
	return r
}
