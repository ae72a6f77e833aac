package provision

import (
	"bytes"
	"testing"
	"time"

	"github.com/dialtone/dialtone/templates"
)

// instant applies a yearly rule to year y: the moment (UTC) of the change.
func (c Change) instant(y, before int) time.Time {
	var day int
	if c.Week == 5 {
		last := time.Date(y, time.Month(c.Month)+1, 0, 0, 0, 0, 0, time.UTC)
		day = last.Day() - (int(last.Weekday())-c.Weekday+7)%7
	} else {
		first := time.Date(y, time.Month(c.Month), 1, 0, 0, 0, 0, time.UTC)
		day = 1 + (c.Weekday-int(first.Weekday())+7)%7 + (c.Week-1)*7
	}
	wall := time.Date(y, time.Month(c.Month), day, 0, 0, c.Seconds, 0, time.UTC)
	return wall.Add(-time.Duration(before) * time.Second)
}

// TestZoneRulesAcrossDSTChange computes each zone's rule from one year and
// checks it against the tz database in the next: one second before each
// computed change the old offset holds, at the change the new one.
func TestZoneRulesAcrossDSTChange(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, posix string
	}{
		{"Europe/Amsterdam", "CET-1CEST,M3.5.0,M10.5.0/3"},
		{"America/New_York", "EST5EDT,M3.2.0,M11.1.0"},
		{"Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3"},
		{"Europe/London", "GMT0BST,M3.5.0/1,M10.5.0"},
		{"Asia/Kolkata", "IST-5:30"},
		{"UTC", "UTC0"},
	}
	for _, c := range cases {
		z, err := LoadZone(c.name, 2025)
		if err != nil {
			t.Fatal(err)
		}
		if got := z.Posix(); got != c.posix {
			t.Errorf("%s: posix %q, want %q", c.name, got, c.posix)
		}
		if !z.HasDST {
			continue
		}
		loc, _ := time.LoadLocation(c.name)
		for _, y := range []int{2026, 2027} {
			for _, ch := range []struct {
				rule          Change
				before, after int
			}{{z.Start, z.StdOffset, z.DSTOffset}, {z.End, z.DSTOffset, z.StdOffset}} {
				at := ch.rule.instant(y, ch.before)
				if o := offsetOf(at.Add(-time.Second).In(loc)); o != ch.before {
					t.Errorf("%s %d: before %v offset %d, want %d", c.name, y, at, o, ch.before)
				}
				if o := offsetOf(at.In(loc)); o != ch.after {
					t.Errorf("%s %d: at %v offset %d, want %d", c.name, y, at, o, ch.after)
				}
			}
		}
	}
	if _, err := LoadZone("Mars/Olympus", 2025); err == nil {
		t.Error("unknown zone accepted")
	}
}

// TestConfigSameEitherSideOfDST: a config fetched in winter and one fetched in
// summer are the same file — the phone gets the rule, not today's offset.
func TestConfigSameEitherSideOfDST(t *testing.T) {
	t.Parallel()
	r := NewRenderer(templates.FS, nil)
	for _, mk := range Makes {
		winter, summer := SampleProfile(mk), SampleProfile(mk)
		winter.Now = time.Date(2025, 3, 30, 0, 59, 0, 0, time.UTC) // a minute before CEST
		summer.Now = time.Date(2025, 3, 30, 1, 1, 0, 0, time.UTC)
		a, err := r.Render(winter, KindPhone)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := r.Render(summer, KindPhone)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: config changes across the DST change", mk)
		}
	}
}

func TestZoneFormats(t *testing.T) {
	t.Parallel()
	z, _ := LoadZone("America/New_York", 2025)
	if z.Hours() != "-5" || z.GMT() != "GMT-05:00" || z.CiscoRule() != "start=3/8/7/2;end=11/1/7/2;save=1" {
		t.Errorf("new york: %s %s %s", z.Hours(), z.GMT(), z.CiscoRule())
	}
	if z.Start.YealinkChange() != "3/2/7/2" || z.Start.PolyDate() != 8 || z.Start.PolyWeekday() != 1 {
		t.Errorf("new york start: %s %d %d", z.Start.YealinkChange(), z.Start.PolyDate(), z.Start.PolyWeekday())
	}
	k, _ := LoadZone("Asia/Kolkata", 2025)
	if k.Hours() != "+5:30" || k.GMT() != "GMT+05:30" || k.CiscoRule() != "" || k.SnomDST() != "" {
		t.Errorf("kolkata: %s %s", k.Hours(), k.GMT())
	}
}
