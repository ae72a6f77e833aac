package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"
)

// Call history (call detail records). One record per call, written when the call ends:
//
//	t/{slug}/call/{start-nanos-hex}{callid-hash-hex}  CallRecord (swept after call_history_days)
//	t/{slug}/usercall/{user}/{call id}                -> ""      (the caller's and the callee's calls)
//
// A record's id begins with the call's start time, so the tenant's calls and each user's
// calls list newest first by a reverse key scan, a page costs what it reads, and the
// sweep reads only what it deletes.

// Call results.
const (
	CallAnswered  = "answered"
	CallBusy      = "busy"
	CallNoAnswer  = "no_answer"
	CallCancelled = "cancelled"
	CallFailed    = "failed"
)

// CallResults are the results a CallRecord may carry.
var CallResults = []string{CallAnswered, CallBusy, CallNoAnswer, CallCancelled, CallFailed}

// Call history retention (call_history_days, 1 to 3650, default 90).
const (
	DefaultCallHistoryDays = 90
	MaxCallHistoryDays     = 3650
)

// CallParty is one end of a call as the history shows it.
type CallParty struct {
	UserID    string `json:"user_id,omitempty"`
	Extension string `json:"extension,omitempty"`
	// Number is the number shown: the caller's extension or caller ID; the callee's
	// number as dialled.
	Number string `json:"number,omitempty"`
}

// CallRecord is one call of the tenant's history.
type CallRecord struct {
	ID     string    `json:"id"`
	Tenant string    `json:"tenant"`
	CallID string    `json:"call_id"`
	Caller CallParty `json:"caller"`
	Callee CallParty `json:"callee"`
	// Route is where the call went: "internal", "upstream", "emergency" or "refused".
	Route  string    `json:"route"`
	Start  time.Time `json:"start"`
	Answer time.Time `json:"answer,omitzero"`
	End    time.Time `json:"end"`
	Result string    `json:"result"`
	Code   int       `json:"code,omitempty"` // the final SIP status
	// Rang are the phones (MACs, or contacts) that rang; AnsweredBy the ones that answered.
	Rang       []string `json:"rang,omitempty"`
	AnsweredBy []string `json:"answered_by,omitempty"`
}

// Involves says whether user id is the call's caller or callee.
func (c CallRecord) Involves(id string) bool {
	return id != "" && (c.Caller.UserID == id || c.Callee.UserID == id)
}

func callKey(slug, id string) string { return "t/" + slug + "/call/" + id }
func userCallKey(slug, user, id string) string {
	return "t/" + slug + "/usercall/" + user + "/" + id
}

// A deleted user's calls stay in the tenant's history (as its audit log does) until
// call_history_days; their per-user index goes with them.
func init() {
	userDeleteHooks = append(userDeleteHooks, func(tx *Tx, u User) error {
		var keys []string
		err := tx.scan("t/"+u.Tenant+"/usercall/"+u.ID+"/", "", true, func(k string, _ *badgerItem) (bool, error) {
			keys = append(keys, k)
			return true, nil
		})
		for _, k := range keys {
			if err == nil {
				err = tx.del(k)
			}
		}
		return err
	})
}

// CallRecordID is the id of a call started at start with this Call-ID: the start in
// nanoseconds (16 hex digits) and a hash of the Call-ID (8), so ids sort by start.
func CallRecordID(start time.Time, callID string) string {
	h := fnv.New32a()
	h.Write([]byte(callID))
	return fmt.Sprintf("%016x%08x", start.UnixNano(), h.Sum32())
}

// callTimeKey is the id prefix of calls started at t (for date bounds).
func callTimeKey(t time.Time) string { return fmt.Sprintf("%016x", t.UnixNano()) }

const maxCallField = 128

// check bounds what a record may hold: the values come from the network.
func (c *CallRecord) check() error {
	if !ValidSlug(c.Tenant) {
		return invalid("tenant", "call record without a valid tenant")
	}
	if c.CallID == "" || len(c.CallID) > 256 {
		return invalid("call_id", "1 to 256 characters")
	}
	if c.Start.IsZero() || c.End.Before(c.Start) {
		return invalid("start", "a call starts before it ends")
	}
	if !slices.Contains(CallResults, c.Result) {
		return invalid("result", "one of %s", strings.Join(CallResults, ", "))
	}
	for _, p := range []*CallParty{&c.Caller, &c.Callee} {
		if len(p.UserID) > maxCallField || len(p.Extension) > maxCallField || len(p.Number) > maxCallField ||
			strings.Contains(p.UserID, "/") {
			return invalid("caller", "a party's fields are at most %d characters", maxCallField)
		}
	}
	if len(c.Rang) > 64 || len(c.AnsweredBy) > 64 {
		return invalid("rang", "at most 64 phones")
	}
	return nil
}

// PutCallRecord writes a finished call and its per-user index entries. The id is
// CallRecordID(c.Start, c.CallID); a second write of the same call replaces the first.
func (tx *Tx) PutCallRecord(c CallRecord) error {
	if err := c.check(); err != nil {
		return err
	}
	c.ID = CallRecordID(c.Start, c.CallID)
	if err := tx.put(callKey(c.Tenant, c.ID), c); err != nil {
		return err
	}
	for _, u := range []string{c.Caller.UserID, c.Callee.UserID} {
		if u != "" {
			if err := tx.putRaw(userCallKey(c.Tenant, u, c.ID), ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// CallQuery selects calls, newest first.
type CallQuery struct {
	Cursor string // a record id: list calls older than it
	Limit  int
	User   string    // only calls where this user is caller or callee (an index walk)
	From   time.Time // only calls started at or after From
	To     time.Time // only calls started before To
	Result string    // only calls with this result
	// Match, when set, keeps only the records it accepts (a caller's scope).
	Match func(CallRecord) bool
	// MaxScan, when set, bounds the records read for one answer, whatever the filters
	// leave out: past it, Calls stops and says where to resume (CallsResume).
	MaxScan int
}

// Calls lists a tenant's calls, newest first, at most q.Limit (0: all that match).
func (tx *Tx) Calls(slug string, q CallQuery) ([]CallRecord, error) {
	out, _, err := tx.CallsResume(slug, q)
	return out, err
}

// CallsResume is Calls that also tells, when q.MaxScan records were read before q.Limit
// matched, the id of the last one read: a cursor to go on from ("" when the list ended
// or filled up).
func (tx *Tx) CallsResume(slug string, q CallQuery) (out []CallRecord, resume string, err error) {
	prefix := "t/" + slug + "/call/"
	if q.User != "" {
		prefix = "t/" + slug + "/usercall/" + q.User + "/"
	}
	it := tx.txn.NewIterator(badgerReverse(prefix))
	defer it.Close()
	upper := "" // ids at or above it are left out
	if !q.To.IsZero() {
		upper = callTimeKey(q.To)
	}
	if q.Cursor != "" && (upper == "" || q.Cursor < upper) {
		upper = q.Cursor
	}
	seek := prefix + "\xff"
	if upper != "" {
		seek = prefix + upper
	}
	var from string
	if !q.From.IsZero() {
		from = callTimeKey(q.From)
	}
	scanned := 0
	for it.Seek([]byte(seek)); it.ValidForPrefix([]byte(prefix)); it.Next() {
		id := strings.TrimPrefix(string(it.Item().Key()), prefix)
		if upper != "" && id >= upper {
			continue // the cursor itself, or a call started at To
		}
		if id < from {
			break
		}
		if q.MaxScan > 0 && scanned >= q.MaxScan {
			return out, resume, nil
		}
		scanned++
		resume = id
		var c CallRecord
		if q.User != "" {
			if err := tx.get(callKey(slug, id), &c); err != nil {
				if errors.Is(err, ErrNotFound) {
					continue // swept between the index and the record
				}
				return nil, "", err
			}
		} else if err := it.Item().Value(func(b []byte) error { return decode(b, &c) }); err != nil {
			return nil, "", err
		}
		if q.Result != "" && c.Result != q.Result || q.Match != nil && !q.Match(c) {
			continue
		}
		out = append(out, c)
		if q.Limit > 0 && len(out) >= q.Limit {
			break
		}
	}
	return out, "", nil
}

// CallHistory is how long the tenant keeps call records.
func (t Tenant) CallHistory() time.Duration {
	d := t.CallHistoryDays
	if d == 0 {
		d = DefaultCallHistoryDays
	}
	return time.Duration(d) * 24 * time.Hour
}

func checkCallHistory(t Tenant) error {
	if t.CallHistoryDays < 0 || t.CallHistoryDays > MaxCallHistoryDays {
		return invalid("call_history_days", "1 to %d days", MaxCallHistoryDays)
	}
	return nil
}

// SweepCalls deletes the call records older than their tenant's call_history_days
// (default 90), with their index entries, and answers how many went.
func (s *Store) SweepCalls(now time.Time) (int, error) {
	return s.sweepOld(now, "call", true,
		func(t Tenant, now time.Time) string { return callTimeKey(now.Add(-t.CallHistory())) },
		func(tx *Tx, slug, id string, value []byte) error {
			var c CallRecord
			if err := decode(value, &c); err != nil {
				return err
			}
			if err := tx.del(callKey(slug, id)); err != nil {
				return err
			}
			for _, u := range []string{c.Caller.UserID, c.Callee.UserID} {
				if u != "" {
					if err := tx.del(userCallKey(slug, u, id)); err != nil {
						return err
					}
				}
			}
			return nil
		})
}

// RunCallSweep sweeps the call history at start and then every SweepEvery until ctx
// is cancelled.
func (s *Store) RunCallSweep(ctx context.Context) error {
	return s.runSweep(ctx, "call history sweep", s.SweepCalls)
}
