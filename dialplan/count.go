package dialplan

import (
	"sync"
	"time"

	"github.com/dialtone/dialtone/sip"
	"github.com/dialtone/dialtone/store"
)

// dailyCount counts each user's outside calls per day in their tenant's time zone, in
// memory (a restart starts the day's count again). Entries of past days are swept
// hourly, so it holds at most the users who called out in the last two days.
type dailyCount struct {
	mu        sync.Mutex
	n         map[string]*dayCount
	lastSweep time.Time
	zones     sync.Map // time zone name → *time.Location
}

type dayCount struct {
	day  string // YYYY-MM-DD in the tenant's zone
	n    int
	last time.Time
}

func newDailyCount() *dailyCount { return &dailyCount{n: map[string]*dayCount{}} }

// take counts one outside call of c's user (or line, without user); false when the
// tenant's daily cap is reached (the call is not counted then).
func (d *dailyCount) take(t store.Tenant, c sip.Caller, now time.Time) bool {
	key := t.Slug + "/" + c.UserID
	if c.UserID == "" {
		key = t.Slug + "/@" + c.Username
	}
	day := now.In(d.zone(t.Timezone)).Format(time.DateOnly)
	d.mu.Lock()
	defer d.mu.Unlock()
	if now.Sub(d.lastSweep) > time.Hour {
		for k, e := range d.n {
			if now.Sub(e.last) > 48*time.Hour {
				delete(d.n, k)
			}
		}
		d.lastSweep = now
	}
	e := d.n[key]
	if e == nil {
		e = &dayCount{}
		d.n[key] = e
	}
	if e.day != day {
		e.day, e.n = day, 0
	}
	e.last = now
	if e.n >= t.OutsideCallCap() {
		return false
	}
	e.n++
	return true
}

func (d *dailyCount) zone(name string) *time.Location {
	if l, ok := d.zones.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		l = time.UTC
	}
	d.zones.Store(name, l)
	return l
}
