package provision

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // IANA names resolve even on hosts without zoneinfo
)

// Zone is an IANA time zone reduced to what desk phones understand: a standard
// offset and, when the zone keeps daylight saving time, the rule of the change
// in each direction, computed from the tz database for a given year. Phones
// apply the rule every year themselves, so configs never carry a fixed offset
// that goes wrong at the next change.
type Zone struct {
	Name      string
	StdOffset int // seconds east of UTC outside DST
	DSTOffset int // seconds east of UTC during DST (== StdOffset when no DST)
	StdAbbr   string
	DSTAbbr   string
	HasDST    bool
	Start     Change // into DST
	End       Change // back to standard time
}

// Change is one DST change as a yearly rule: in Month, the Week-th (1..4, 5 =
// last) Weekday (0 = Sunday), at Seconds after local midnight in the time in
// force before the change (POSIX TZ convention). Day is that year's date.
type Change struct {
	Month   int
	Week    int
	Weekday int
	Day     int
	Seconds int
}

type zoneKey struct {
	name string
	year int
}

var zoneCache sync.Map // zoneKey → Zone

// LoadZone computes the Zone of an IANA name for the given year.
func LoadZone(name string, year int) (Zone, error) {
	if name == "" {
		name = "UTC"
	}
	if z, ok := zoneCache.Load(zoneKey{name, year}); ok {
		return z.(Zone), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return Zone{}, fmt.Errorf("time zone %q: %w", name, err)
	}
	z := Zone{Name: name}
	jan := time.Date(year, 1, 1, 0, 0, 0, 0, loc)
	jul := time.Date(year, 7, 1, 0, 0, 0, 0, loc)
	var changes []time.Time
	prev := jan
	for d := 1; d <= 366; d++ {
		next := jan.AddDate(0, 0, d)
		if next.Year() > year {
			next = time.Date(year+1, 1, 1, 0, 0, 0, 0, loc)
		}
		if offsetOf(prev) != offsetOf(next) {
			changes = append(changes, findChange(prev, next))
		}
		prev = next
		if next.Year() > year {
			break
		}
	}
	if len(changes) != 2 || jan.IsDST() == jul.IsDST() && offsetOf(jan) == offsetOf(jul) {
		// No yearly DST (or a one-off change of standard offset): the offset now in
		// force in the middle of the year is the phone's.
		ref := jul
		if len(changes) > 0 {
			ref = changes[len(changes)-1]
		}
		z.StdAbbr, z.StdOffset = ref.Zone()
		z.DSTOffset, z.DSTAbbr = z.StdOffset, z.StdAbbr
		zoneCache.Store(zoneKey{name, year}, z)
		return z, nil
	}
	into, back := changes[0], changes[1]
	if offsetOf(into) < offsetOf(back) { // southern hemisphere: the first change of the year ends DST
		into, back = back, into
	}
	z.HasDST = true
	z.DSTAbbr, z.DSTOffset = into.Zone()
	z.StdAbbr, z.StdOffset = back.Zone()
	z.Start = changeRule(into, z.StdOffset)
	z.End = changeRule(back, z.DSTOffset)
	zoneCache.Store(zoneKey{name, year}, z)
	return z, nil
}

func offsetOf(t time.Time) int { _, o := t.Zone(); return o }

// findChange narrows [a, b) to the first instant (to the second) with b's offset.
func findChange(a, b time.Time) time.Time {
	want := offsetOf(b)
	lo, hi := a.Unix(), b.Unix()
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if offsetOf(time.Unix(mid, 0).In(a.Location())) == want {
			hi = mid
		} else {
			lo = mid
		}
	}
	return time.Unix(hi, 0).In(a.Location())
}

// changeRule expresses the change at instant t as a yearly rule, with the wall
// clock read in the offset in force before it.
func changeRule(t time.Time, before int) Change {
	w := t.UTC().Add(time.Duration(before) * time.Second)
	days := time.Date(w.Year(), w.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
	week := (w.Day()-1)/7 + 1
	if w.Day()+7 > days {
		week = 5
	}
	return Change{Month: int(w.Month()), Week: week, Weekday: int(w.Weekday()), Day: w.Day(),
		Seconds: w.Hour()*3600 + w.Minute()*60 + w.Second()}
}

// Hour of the change (whole hours, as most phones take it).
func (c Change) Hour() int { return c.Seconds / 3600 }

// SaveMinutes is how far clocks move at the changes.
func (z Zone) SaveMinutes() int { return (z.DSTOffset - z.StdOffset) / 60 }

// Posix is the POSIX TZ string (IEEE 1003.1 §8.3), e.g.
// CET-1CEST,M3.5.0/2,M10.5.0/3 — Grandstream takes it as is.
func (z Zone) Posix() string {
	var b strings.Builder
	b.WriteString(posixAbbr(z.StdAbbr))
	b.WriteString(posixOffset(-z.StdOffset))
	if !z.HasDST {
		return b.String()
	}
	b.WriteString(posixAbbr(z.DSTAbbr))
	if z.DSTOffset-z.StdOffset != 3600 {
		b.WriteString(posixOffset(-z.DSTOffset))
	}
	for _, c := range []Change{z.Start, z.End} {
		fmt.Fprintf(&b, ",M%d.%d.%d", c.Month, c.Week, c.Weekday)
		if c.Seconds != 7200 {
			b.WriteString("/" + posixOffset(c.Seconds))
		}
	}
	return b.String()
}

func posixAbbr(a string) string {
	for _, r := range a {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return "<" + a + ">"
		}
	}
	if len(a) < 3 {
		return "<" + a + ">"
	}
	return a
}

// posixOffset writes seconds as [-]h[:mm[:ss]].
func posixOffset(s int) string {
	sign := ""
	if s < 0 {
		sign, s = "-", -s
	}
	h, m, sec := s/3600, s/60%60, s%60
	switch {
	case sec != 0:
		return fmt.Sprintf("%s%d:%02d:%02d", sign, h, m, sec)
	case m != 0:
		return fmt.Sprintf("%s%d:%02d", sign, h, m)
	}
	return sign + strconv.Itoa(h)
}

// Hours is the standard offset as Yealink writes it: +1, -5, +5:30.
func (z Zone) Hours() string {
	s := z.StdOffset
	sign := "+"
	if s < 0 {
		sign, s = "-", -s
	}
	if s%3600 != 0 {
		return fmt.Sprintf("%s%d:%02d", sign, s/3600, s/60%60)
	}
	return sign + strconv.Itoa(s/3600)
}

// GMT is the standard offset as Cisco writes it: GMT+01:00.
func (z Zone) GMT() string {
	s := z.StdOffset
	sign := "+"
	if s < 0 {
		sign, s = "-", -s
	}
	return fmt.Sprintf("GMT%s%02d:%02d", sign, s/3600, s/60%60)
}

// CiscoRule is Cisco MPP's Daylight_Saving_Time_Rule: start=month/day/weekday/
// time;end=…;save=h, where day is the first date the weekday may fall on (-1:
// the last such weekday of the month) and weekday 1 = Monday … 7 = Sunday.
func (z Zone) CiscoRule() string {
	if !z.HasDST {
		return ""
	}
	f := func(c Change) string {
		day := (c.Week-1)*7 + 1
		if c.Week == 5 {
			day = -1
		}
		return fmt.Sprintf("%d/%d/%d/%s", c.Month, day, isoWeekday(c.Weekday), clock(c.Seconds))
	}
	return fmt.Sprintf("start=%s;end=%s;save=%s", f(z.Start), f(z.End), posixOffset(z.DSTOffset-z.StdOffset))
}

// SnomDST is Snom's dst setting: "save MM.WW.DD HH:MM:SS MM.WW.DD HH:MM:SS" with
// week 5 = last and day 1 = Monday … 7 = Sunday.
func (z Zone) SnomDST() string {
	if !z.HasDST {
		return ""
	}
	f := func(c Change) string {
		return fmt.Sprintf("%02d.%02d.%02d %s", c.Month, c.Week, isoWeekday(c.Weekday), clockSeconds(c.Seconds))
	}
	return fmt.Sprintf("%d %s %s", z.DSTOffset-z.StdOffset, f(z.Start), f(z.End))
}

// YealinkChange is Yealink's local_time.start_time/end_time in DST-by-week
// form: month/week/weekday/hour with week 5 = last and weekday 1 = Monday … 7 = Sunday.
func (c Change) YealinkChange() string {
	return fmt.Sprintf("%d/%d/%d/%d", c.Month, c.Week, isoWeekday(c.Weekday), c.Hour())
}

// PolyDate is the earliest date the change may fall on, as Poly's
// tcpIpApp.sntp.daylightSavings.*.date wants with dayOfWeek rules.
func (c Change) PolyDate() int {
	if c.Week == 5 {
		return 22
	}
	return (c.Week-1)*7 + 1
}

// PolyWeekday is Poly's day of week: 1 = Sunday … 7 = Saturday.
func (c Change) PolyWeekday() int { return c.Weekday + 1 }

// LastWeek is 1 when the rule names the last such weekday of the month.
func (c Change) LastWeek() int {
	if c.Week == 5 {
		return 1
	}
	return 0
}

// FanvilWeek is Fanvil's week of month: 1..4, -1 = last.
func (c Change) FanvilWeek() int {
	if c.Week == 5 {
		return -1
	}
	return c.Week
}

func isoWeekday(w int) int {
	if w == 0 {
		return 7
	}
	return w
}

func clock(s int) string {
	if s%3600 == 0 {
		return strconv.Itoa(s / 3600)
	}
	return fmt.Sprintf("%d:%02d", s/3600, s/60%60)
}

func clockSeconds(s int) string {
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}
