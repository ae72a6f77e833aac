package provision

import (
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/dialtone/dialtone/internal/crash"
	"github.com/dialtone/dialtone/store"
)

// fetchLog writes what fetches tell (provisioning log entries, phones' last
// seen, discovered phones) in batches off the request path: a fetch only
// queues an event, and a repeat fetch of a cached file only counts a hit on
// its cache entry. When the queue is full events are dropped and counted,
// never waited for.
type fetchLog struct {
	st      *store.Store
	log     *slog.Logger
	ch      chan fetchEvent
	done    chan struct{}
	mu      sync.Mutex
	dropped int64

	hitMu sync.Mutex
	hits  []*cacheEntry // entries hit since the last flush, each once

	closeMu sync.RWMutex // a fetch still running after Close must not send on a closed channel
	closed  bool

	touched map[string]touchState // only the flusher goroutine uses it
	every   time.Duration
}

type fetchEvent struct {
	tenant     string
	entry      store.ProvisionLogEntry // Addr left empty: addr holds it until the flush
	addr       netip.Addr
	known      bool              // entry.MAC is the tenant's phone: touch it
	discovered *store.Discovered // an unknown MAC to record
}

// touchEvery bounds how often an unchanged phone's last-seen is rewritten.
const touchEvery = 30 * time.Second

type touchState struct {
	at             time.Time
	addr, ua, firm string
}

// maxDiscovered bounds each tenant's discovered list.
const maxDiscovered = 1000

func newFetchLog(st *store.Store, log *slog.Logger, every time.Duration) *fetchLog {
	if every <= 0 {
		every = 2 * time.Second
	}
	l := &fetchLog{st: st, log: log, every: every, ch: make(chan fetchEvent, 8192), done: make(chan struct{}),
		touched: map[string]touchState{}}
	go func() {
		defer close(l.done)
		crash.Restart(log, "provision", "fetch log", l.run)
	}()
	return l
}

func (l *fetchLog) add(ev fetchEvent) {
	l.closeMu.RLock()
	defer l.closeMu.RUnlock()
	if l.closed {
		return
	}
	select {
	case l.ch <- ev:
	default:
		l.mu.Lock()
		l.dropped++
		l.mu.Unlock()
	}
}

// hitCount is what a cached file's fetches since the last flush add up to: a
// phone fetching the same file again costs a counter, not an event.
type hitCount struct {
	mu           sync.Mutex
	n            int
	last         time.Time
	addr         netip.Addr
	proto        string
	ua, firmware string // the fetching phone's: an entry is shared by every phone of its make and model
}

// hit counts a fetch of e served from the cache. It answers false when the
// window's hits came from another address, protocol or User-Agent: the caller logs
// this fetch as an event of its own, so the log keeps who fetched what.
func (l *fetchLog) hit(e *cacheEntry, addr netip.Addr, proto, ua, firmware string, at time.Time) bool {
	h := &e.hits
	h.mu.Lock()
	first := h.n == 0
	if !first && (h.addr != addr || h.proto != proto || h.ua != ua) {
		h.mu.Unlock()
		return false
	}
	if first {
		h.addr, h.proto, h.ua, h.firmware = addr, proto, ua, firmware
	}
	h.n++
	h.last = at
	h.mu.Unlock()
	if first {
		l.hitMu.Lock()
		l.hits = append(l.hits, e)
		l.hitMu.Unlock()
	}
	return true
}

// takeHits turns the hits counted since the last flush into events, one per
// entry with its count, and starts a new window.
func (l *fetchLog) takeHits() []fetchEvent {
	l.hitMu.Lock()
	hits := l.hits
	l.hits = nil
	l.hitMu.Unlock()
	evs := make([]fetchEvent, 0, len(hits))
	for _, e := range hits {
		h := &e.hits
		h.mu.Lock()
		n, last, addr, proto, ua, firmware := h.n, h.last, h.addr, h.proto, h.ua, h.firmware
		h.n = 0
		h.mu.Unlock()
		if n == 0 {
			continue
		}
		evs = append(evs, fetchEvent{tenant: e.tenant, addr: addr, known: e.mac != "", entry: store.ProvisionLogEntry{
			Time: last, MAC: e.mac, File: e.file, Protocol: proto, Make: string(e.make), Model: e.model,
			Firmware: firmware, UserAgent: ua, Status: 200, Bytes: int64(len(e.body)), Count: n}})
	}
	return evs
}

func (l *fetchLog) close() {
	l.closeMu.Lock()
	l.closed = true
	close(l.ch)
	l.closeMu.Unlock()
	<-l.done
}

func (l *fetchLog) run() {
	tick := time.NewTicker(l.every)
	defer tick.Stop()
	var batch []fetchEvent
	for {
		select {
		case ev, ok := <-l.ch:
			if !ok {
				l.flush(append(batch, l.takeHits()...))
				return
			}
			batch = append(batch, ev)
			if len(batch) >= 65536 {
				l.flush(batch)
				batch = batch[:0]
			}
		case <-tick.C:
			batch = append(batch, l.takeHits()...)
			if len(batch) > 0 {
				l.flush(batch)
				batch = batch[:0]
			}
		}
	}
}

func (l *fetchLog) flush(batch []fetchEvent) {
	if len(batch) == 0 {
		return
	}
	// Repeats of one fetch within the batch become one entry with a count, so a
	// busy phone or a benchmark costs the log a write per batch, not per fetch.
	type repeatKey struct {
		tenant, mac, file, proto, ua string
		addr                         netip.Addr
		status                       int
		device, reason               string
	}
	order := map[string][]repeatKey{}
	merged := map[repeatKey]*store.ProvisionLogEntry{}
	touch := map[string]store.ProvisionLogEntry{}
	disc := map[string]store.Discovered{}
	counts := map[string]int{} // tenant → discovered records, counted once per flush
	for _, ev := range batch {
		ev.entry.Addr = ev.addr.String()
		k := repeatKey{ev.tenant, ev.entry.MAC, ev.entry.File, ev.entry.Protocol, ev.entry.UserAgent, ev.addr, ev.entry.Status,
			ev.entry.Device, ev.entry.Reason}
		n := max(ev.entry.Count, 1)
		if m := merged[k]; m != nil {
			m.Count += n
			if !ev.entry.Time.Before(m.Time) {
				m.Time, m.Bytes = ev.entry.Time, ev.entry.Bytes
			}
		} else {
			e := ev.entry
			e.Count = n
			merged[k] = &e
			order[ev.tenant] = append(order[ev.tenant], k)
		}
		if ev.known {
			last := l.touched[ev.entry.MAC]
			if ev.entry.Time.Sub(last.at) >= touchEvery || last.addr != ev.entry.Addr || last.ua != ev.entry.UserAgent ||
				ev.entry.Firmware != "" && last.firm != ev.entry.Firmware {
				touch[ev.entry.MAC] = ev.entry
			}
		}
		if ev.discovered != nil && l.roomFor(ev.tenant, ev.discovered.MAC, disc, counts) {
			disc[ev.tenant+"/"+ev.discovered.MAC] = *ev.discovered
		}
	}
	byTenant := map[string][]store.ProvisionLogEntry{}
	for slug, keys := range order {
		for _, k := range keys {
			e := *merged[k]
			if e.Count == 1 {
				e.Count = 0
			}
			byTenant[slug] = append(byTenant[slug], e)
		}
	}
	if len(l.touched) > 1<<20 {
		l.touched = map[string]touchState{}
	}
	for mac, e := range touch {
		l.touched[mac] = touchState{at: e.Time, addr: e.Addr, ua: e.UserAgent, firm: e.Firmware}
	}
	err := l.st.UpdateLazy(func(tx *store.Tx) error {
		for slug, entries := range byTenant {
			if err := tx.AppendProvisionLog(slug, entries); err != nil {
				return err
			}
		}
		for mac, e := range touch {
			if err := tx.TouchPhone(mac, e.Time, e.Addr, e.UserAgent, e.Firmware); err != nil {
				continue // deleted meanwhile
			}
		}
		for _, d := range disc {
			if _, err := tx.Phone(d.MAC); err == nil {
				continue // assigned meanwhile
			}
			if err := tx.SaveDiscovered(d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		l.log.Error("provisioning log not written", "err", err, "entries", len(batch))
	}
	l.mu.Lock()
	if l.dropped > 0 {
		l.log.Warn("provisioning log events dropped (queue full)", "count", l.dropped)
		l.dropped = 0
	}
	l.mu.Unlock()
}

// roomFor keeps each tenant's discovered list under maxDiscovered (a refresh of
// a MAC already listed always has room). counts is this flush's tally: counted from
// the store once per tenant and flush, so records an admin dismissed or assigned make
// room again.
func (l *fetchLog) roomFor(slug, mac string, pending map[string]store.Discovered, counts map[string]int) bool {
	if _, dup := pending[slug+"/"+mac]; dup {
		return true
	}
	n, counted := counts[slug]
	exists := false
	_ = l.st.View(func(tx *store.Tx) error {
		if !counted {
			n, _ = tx.CountDiscovered(slug)
		}
		_, err := tx.DiscoveredPhone(slug, mac)
		exists = err == nil
		return nil
	})
	counts[slug] = n
	if exists {
		return true
	}
	if n >= maxDiscovered {
		return false
	}
	counts[slug] = n + 1
	return true
}
