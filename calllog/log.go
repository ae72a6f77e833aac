package calllog

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialtone/dialtone/internal/crash"
	"github.com/dialtone/dialtone/sip"
	"github.com/dialtone/dialtone/store"
)

// Defaults of Config.
const (
	// DefaultMaxInFlight bounds the calls followed at once (about 1 KiB each).
	DefaultMaxInFlight = 20000
	// DefaultQueue bounds the finished calls waiting for the writer.
	DefaultQueue = 4096
	// StaleAfter is how old a call still in flight may be before a full table drops it
	// (a call whose end the proxy never told).
	StaleAfter = 24 * time.Hour
	// writeBatch is how many records one store transaction writes at most.
	writeBatch = 256
	// maxPhones bounds the phones a record lists as rung or answering.
	maxPhones = 32
)

// Config is what New needs; Store is required.
type Config struct {
	Store       *store.Store
	Logger      *slog.Logger
	MaxInFlight int // calls followed at once (DefaultMaxInFlight)
	Queue       int // finished calls waiting to be written (DefaultQueue)
}

// Stats counts what the log did since it started.
type Stats struct {
	InFlight  int    // calls followed now
	Written   uint64 // records written
	Dropped   uint64 // finished calls lost: the queue was full
	Untracked uint64 // calls not followed from their start: the table was full
	Failed    uint64 // records the store refused (logged)
}

type callKey struct{ tenant, callID string }

// Log is the call history writer: a sip.CallObserver.
type Log struct {
	st    *store.Store
	log   *slog.Logger
	max   int
	queue chan store.CallRecord

	mu        sync.Mutex
	calls     map[callKey]*store.CallRecord
	lastStale time.Time

	written, dropped, untracked, failed atomic.Uint64
	lastDropLog, lastFailLog            atomic.Int64 // unix seconds of the last drop or refusal logged
}

// New builds a Log; Run writes what it collects.
func New(cfg Config) (*Log, error) {
	if cfg.Store == nil {
		return nil, errors.New("calllog: a store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	return &Log{
		st: cfg.Store, log: cfg.Logger.With("svc", "calllog"), max: cfg.MaxInFlight,
		queue: make(chan store.CallRecord, cfg.Queue),
		calls: make(map[callKey]*store.CallRecord),
	}, nil
}

// Stats reads the counters.
func (l *Log) Stats() Stats {
	l.mu.Lock()
	n := len(l.calls)
	l.mu.Unlock()
	return Stats{InFlight: n, Written: l.written.Load(), Dropped: l.dropped.Load(),
		Untracked: l.untracked.Load(), Failed: l.failed.Load()}
}

// CallEvent follows one step of a call. It never blocks: the proxy calls it inline. A
// panic here ends this event only (internal/crash).
func (l *Log) CallEvent(e sip.CallEvent) {
	defer crash.Recover(l.log, "calllog", "call event")
	if e.Tenant == "" || e.CallID == "" {
		return
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	k := callKey{e.Tenant, e.CallID}
	l.mu.Lock()
	c := l.calls[k]
	switch e.Kind {
	case sip.CallStarted:
		if c == nil {
			c = l.track(k, e)
		}
	case sip.CallRinging:
		if c != nil {
			c.Rang = addPhones(c.Rang, e.Phones)
		}
	case sip.CallAnswered:
		if c != nil && c.Answer.IsZero() {
			c.Answer = e.At.UTC()
			c.Rang = addPhones(c.Rang, e.Phones)
			c.AnsweredBy = addPhones(c.AnsweredBy, e.Phones)
		}
	case sip.CallEnded:
		if c != nil {
			delete(l.calls, k)
		} else {
			c = newRecord(e) // followed from its end only: its start is unknown
		}
	}
	l.mu.Unlock()
	if e.Kind == sip.CallEnded {
		finish(c, e)
		l.enqueue(*c)
	}
}

// track starts following a call, unless the table is full (l.mu held).
func (l *Log) track(k callKey, e sip.CallEvent) *store.CallRecord {
	if len(l.calls) >= l.max {
		l.dropStale(e.At)
	}
	if len(l.calls) >= l.max {
		if l.untracked.Add(1) == 1 {
			l.log.Warn("call history: too many calls in flight; calls are recorded from their end only", "max", l.max)
		}
		return nil
	}
	c := newRecord(e)
	l.calls[k] = c
	return c
}

// dropStale forgets calls older than StaleAfter, at most once a minute (l.mu held).
func (l *Log) dropStale(now time.Time) {
	if now.Sub(l.lastStale) < time.Minute {
		return
	}
	l.lastStale = now
	for k, c := range l.calls {
		if now.Sub(c.Start) > StaleAfter {
			delete(l.calls, k)
		}
	}
}

func newRecord(e sip.CallEvent) *store.CallRecord {
	c := &store.CallRecord{
		Tenant: e.Tenant, CallID: clip(e.CallID, 256), Start: e.At.UTC(),
		Caller: store.CallParty{UserID: e.Caller.UserID, Extension: e.Caller.Extension, Number: clip(e.From, 64)},
		Callee: store.CallParty{UserID: e.Route.UserID, Extension: e.Route.Extension, Number: clip(e.To, 64)},
		Route:  routeName(e.Route.Kind),
	}
	if c.Callee.Number == "" {
		c.Callee.Number = clip(e.Route.Number, 64)
		if c.Callee.Number == "" {
			c.Callee.Number = e.Route.Extension
		}
	}
	return c
}

// finish sets the end and result of a call from its CallEnded event.
func finish(c *store.CallRecord, e sip.CallEvent) {
	c.End = e.At.UTC()
	if c.End.Before(c.Start) {
		c.End = c.Start
	}
	c.Code = e.Code
	c.Result = Result(!c.Answer.IsZero(), e.Code)
	if c.Result == store.CallAnswered && c.Answer.IsZero() {
		c.Answer = c.End // answered, but the answer was not told: at most the end
	}
}

// Result names how a call ended: answered when a branch answered (or the final status
// is 2xx), else by the final status (RFC 3261 §21): 486 Busy Here and 600 Busy
// Everywhere busy; 480 Temporarily Unavailable and 408 Request Timeout no answer; 487
// Request Terminated (the caller's CANCEL) cancelled; anything else failed.
func Result(answered bool, code int) string {
	switch {
	case answered || code >= 200 && code < 300:
		return store.CallAnswered
	case code == 486 || code == 600:
		return store.CallBusy
	case code == 480 || code == 408:
		return store.CallNoAnswer
	case code == 487:
		return store.CallCancelled
	}
	return store.CallFailed
}

func routeName(k sip.RouteKind) string {
	switch k {
	case sip.RouteInternal:
		return "internal"
	case sip.RouteUpstream:
		return "upstream"
	case sip.RouteEmergency:
		return "emergency"
	}
	return "refused"
}

func addPhones(have, add []string) []string {
	for _, p := range add {
		if p != "" && len(have) < maxPhones && !slices.Contains(have, p) {
			have = append(have, clip(p, 128))
		}
	}
	return have
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// enqueue hands a finished call to the writer, or drops it when the queue is full.
func (l *Log) enqueue(c store.CallRecord) {
	select {
	case l.queue <- c:
	default:
		n := l.dropped.Add(1)
		if everyTen(&l.lastDropLog) {
			l.log.Error("call history: write queue full, call records dropped", "dropped_total", n, "queue", cap(l.queue))
		}
	}
}

// Run writes finished calls to the store until ctx is cancelled, then writes what is
// still queued. Each round writes what has queued up (at most writeBatch) in one
// transaction.
func (l *Log) Run(ctx context.Context) error {
	batch := make([]store.CallRecord, 0, writeBatch)
	for {
		select {
		case <-ctx.Done():
			for {
				batch = batch[:0]
				l.fill(&batch)
				if len(batch) == 0 {
					return nil
				}
				l.write(batch)
			}
		case c := <-l.queue:
			batch = append(batch[:0], c)
			l.fill(&batch)
			l.write(batch)
		}
	}
}

// fill takes what is queued, up to writeBatch, without waiting.
func (l *Log) fill(batch *[]store.CallRecord) {
	for len(*batch) < writeBatch {
		select {
		case c := <-l.queue:
			*batch = append(*batch, c)
		default:
			return
		}
	}
}

func (l *Log) write(batch []store.CallRecord) {
	defer crash.Recover(l.log, "calllog", "write")
	refused := 0
	err := l.st.UpdateLazy(func(tx *store.Tx) error {
		refused = 0
		for _, c := range batch {
			err := tx.PutCallRecord(c)
			if errors.Is(err, store.ErrInvalid) {
				refused++
				if everyTen(&l.lastFailLog) {
					l.log.Warn("call history: record refused", "tenant", c.Tenant, "err", err)
				}
				continue
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		l.failed.Add(uint64(len(batch)))
		l.log.Error("call history: write failed", "records", len(batch), "err", err)
		return
	}
	l.failed.Add(uint64(refused))
	l.written.Add(uint64(len(batch) - refused))
}

// everyTen says whether a log line is due: at most one every ten seconds per kind.
func everyTen(last *atomic.Int64) bool {
	now := time.Now().Unix()
	l := last.Load()
	return now-l >= 10 && last.CompareAndSwap(l, now)
}
