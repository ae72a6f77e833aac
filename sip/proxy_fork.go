package sip

import (
	"errors"
	"sync"
	"time"

	"github.com/dialtone/dialtone/internal/crash"
	"github.com/emiago/sipgo/sip"
)

// fwd is one request the proxy forwards statefully: its server transaction and the
// client transactions of its branches (RFC 3261 §16.6 steps 1-12 and §16.7, the
// "response context").
type fwd struct {
	s    *Server
	key  string
	tx   *sip.ServerTx
	req  *sip.Request // as received, received/rport written into its top Via
	back *hop         // where its answers go
	call *call        // the call an initial INVITE set up; nil otherwise

	mu        sync.Mutex
	branches  []*branch
	answered  bool // a 2xx went to the caller
	final     int  // the final status the caller got, 0 until one went
	cancelled bool // the caller cancelled, or the first 2xx came
	ringing   bool
	timer     *time.Timer // Timer C
}

// branch is one forwarded copy of the request (RFC 3261 §16.6).
type branch struct {
	req   *sip.Request
	hop   *hop
	tx    *sip.ClientTx
	key   string
	phone string // what rings: a MAC or a contact, for call events

	provisional  bool
	final        *sip.Response // nil while pending
	cancelWanted bool          // CANCEL once a provisional answer comes (RFC 3261 §9.1)
	cancelSent   bool
	timedOut     bool
	// retry answers an upstream's 401/407 with a new request (Kamailio's uac_auth);
	// nil for a branch that must not be retried.
	retry func(res *sip.Response) *sip.Request
}

// newFwd makes the server transaction of req and registers it; nil when the tables are
// full (the caller answers 503).
func (s *Server) newFwd(req *sip.Request, in *inbound, key string) *fwd {
	f := &fwd{s: s, key: key, req: req, back: hopOf(in)}
	f.tx = sip.NewServerTx(key, req, f.back, s.proxy.txLog)
	if !s.proxy.addServer(key, f) {
		return nil
	}
	if err := f.tx.Init(); err != nil {
		s.proxy.dropServer(key, f)
		return nil
	}
	f.tx.OnTerminate(func(string, error) { s.proxy.dropServer(key, f) })
	f.tx.OnCancel(func(*sip.Request) { f.cancel() })
	return f
}

// respond answers with a response of our own (and ends the call for a final one).
func (f *fwd) respond(code int, reason string) {
	res := sip.NewResponseFromRequest(f.req, code, reason, nil)
	if code >= 200 {
		f.mu.Lock()
		if f.final != 0 {
			f.mu.Unlock()
			return
		}
		f.final = code
		f.mu.Unlock()
		f.s.callEnded(f.call, code)
	}
	f.tx.Respond(res)
}

// fork sends each branch (RFC 3261 §16.6) and starts Timer C.
func (f *fwd) fork(bs []*branch) {
	f.mu.Lock()
	if f.cancelled || f.final != 0 {
		f.mu.Unlock()
		f.s.callEnded(f.call, 487) // sipgo's server transaction answered the CANCEL's 487
		return
	}
	f.branches = bs
	if f.req.IsInvite() {
		f.timer = time.AfterFunc(timerC, f.timerC)
	}
	f.mu.Unlock()
	for _, b := range bs {
		f.send(b)
	}
}

// send starts a branch's client transaction and its reader.
func (f *fwd) send(b *branch) {
	branchID, _ := b.req.Via().Params.Get("branch")
	b.key = clientKey(branchID, b.req.Method)
	b.req.SetTransport(b.hop.transport)
	b.tx = sip.NewClientTx(b.key, b.req, branchHop{b.hop}, f.s.proxy.txLog)
	if !f.s.proxy.addClient(b.key, b.tx) {
		f.onResponse(b, f.synth(b, 503, "Too many transactions"))
		return
	}
	if f.req.IsInvite() {
		// 2xx retransmissions pass the Accepted state to us (RFC 6026 §7.2): forwarded.
		b.tx.OnRetransmission(func(res *sip.Response) { f.forward2xx(res) })
	}
	if err := b.tx.Init(); err != nil {
		f.s.proxy.dropClient(b.key)
		f.onResponse(b, f.synth(b, 503, "Service Unavailable"))
		return
	}
	go f.read(b, b.tx)
}

// read passes a branch's responses to the response context until its transaction ends.
func (f *fwd) read(b *branch, tx *sip.ClientTx) {
	defer f.s.proxy.dropClient(clientKeyOf(tx))
	defer crash.Recover(f.s.log, "sip", "proxy branch")
	for {
		select {
		case res := <-tx.Responses():
			f.onResponse(b, res)
		case <-tx.Done():
			f.mu.Lock()
			pending := b.final == nil && b.tx == tx
			f.mu.Unlock()
			if pending {
				code, reason := 408, "Request Timeout"
				if errors.Is(tx.Err(), sip.ErrTransactionTransport) {
					code, reason = 503, "Service Unavailable"
				}
				f.onResponse(b, f.synth(b, code, reason))
			}
			return
		}
	}
}

func clientKeyOf(tx *sip.ClientTx) string { return tx.Key() }

// branchHop is the hop of an INVITE branch's client transaction. The only ACK written
// through it is the one sipgo builds for a non-2xx answer, with every Via of the
// INVITE copied: RFC 3261 §17.1.1.3 wants the top one alone, which it keeps.
type branchHop struct{ *hop }

func (h branchHop) WriteMsg(m sip.Message) error {
	if req, ok := m.(*sip.Request); ok && req.Method == sip.ACK && len(req.GetHeaders("Via")) > 1 {
		top := req.Via()
		removeHeaders(req, "Via")
		req.PrependHeader(top)
	}
	return h.hop.WriteMsg(m)
}

// synth is a response of our own standing for a branch's (timeout, transport error).
func (f *fwd) synth(b *branch, code int, reason string) *sip.Response {
	res := sip.NewResponseFromRequest(b.req, code, reason, nil)
	return res
}

// onResponse is RFC 3261 §16.7 for one response of branch b.
func (f *fwd) onResponse(b *branch, res *sip.Response) {
	code := res.StatusCode
	f.mu.Lock()
	if b.final != nil && code >= 200 && code < 300 && f.req.IsInvite() {
		f.mu.Unlock()
		f.forward2xx(res) // another 2xx of an accepted branch
		return
	}
	if b.final != nil {
		f.mu.Unlock()
		return
	}
	if code < 200 {
		b.provisional = true
		cancel := b.cancelWanted && !b.cancelSent
		if cancel {
			b.cancelSent = true
		}
		first := code != 100 && !f.ringing && f.final == 0
		if first {
			f.ringing = true
		}
		done := f.final != 0
		f.mu.Unlock()
		if cancel {
			f.s.sendCancel(b)
		}
		if code == 100 || done {
			return // 100 is hop by hop (RFC 3261 §16.7 step 5)
		}
		f.tx.Respond(forwardable(res))
		if first {
			f.s.callRinging(f.call, b.phone)
		}
		return
	}
	if b.retry != nil && (code == 401 || code == 407) && !f.cancelled {
		next := b.retry(res)
		b.retry = nil
		if next != nil {
			nb := &branch{req: next, hop: b.hop, phone: b.phone}
			for i, x := range f.branches {
				if x == b {
					f.branches[i] = nb
				}
			}
			b.final = res
			f.mu.Unlock()
			f.send(nb)
			return
		}
	}
	b.final = res
	if code < 300 {
		first := !f.answered
		f.answered, f.cancelled = true, true
		others := f.pendingLocked(b)
		f.mu.Unlock()
		f.forward2xx(res)
		f.cancelBranches(others) // RFC 3261 §16.7 step 10
		if first {
			f.s.callAnswered(f.call, b.phone)
		}
		return
	}
	var others []*branch
	if code >= 600 {
		f.cancelled = true
		others = f.pendingLocked(b) // RFC 3261 §16.7 step 5
	}
	done := f.final == 0 && f.allFinalLocked()
	var best *sip.Response
	if done {
		best = bestResponse(f.branches)
		f.final = best.StatusCode
		if f.timer != nil {
			f.timer.Stop()
		}
	}
	f.mu.Unlock()
	f.cancelBranches(others)
	if best != nil {
		f.s.callEnded(f.call, best.StatusCode)
		f.tx.Respond(forwardable(best))
	}
}

// forward2xx sends a 2xx to the caller: through the server transaction while it
// takes one, else straight back by the caller's hop (RFC 6026 §8.1: a proxy forwards
// every 2xx to an INVITE, the late ones too).
func (f *fwd) forward2xx(res *sip.Response) {
	out := forwardable(res)
	f.mu.Lock()
	viaTx := f.final == 0 || f.final < 300
	if f.final == 0 {
		f.final = res.StatusCode
	}
	if f.timer != nil {
		f.timer.Stop()
	}
	f.mu.Unlock()
	if viaTx {
		if err := f.tx.Respond(out); err == nil {
			return
		}
	}
	f.back.WriteMsg(out)
}

// forwardable is a branch's response as the caller gets it: our Via removed (RFC 3261
// §16.7 step 3).
func forwardable(res *sip.Response) *sip.Response {
	out := res.Clone()
	out.RemoveHeader("Via")
	return out
}

// pendingLocked lists the branches other than b still waiting for a final answer.
func (f *fwd) pendingLocked(b *branch) []*branch {
	var out []*branch
	for _, x := range f.branches {
		if x != b && x.final == nil {
			out = append(out, x)
		}
	}
	return out
}

func (f *fwd) allFinalLocked() bool {
	for _, b := range f.branches {
		if b.final == nil {
			return false
		}
	}
	return len(f.branches) > 0
}

// cancel is the caller's CANCEL (sipgo's server transaction answered 487 already):
// every pending branch is cancelled (RFC 3261 §16.10).
func (f *fwd) cancel() {
	f.mu.Lock()
	f.cancelled = true
	forked := f.branches != nil
	others := f.pendingLocked(nil)
	already := f.final != 0
	if !already {
		f.final = 487
	}
	if f.timer != nil {
		f.timer.Stop()
	}
	f.mu.Unlock()
	f.cancelBranches(others)
	if forked && !already {
		f.s.callEnded(f.call, 487)
	}
}

// timerC cancels the branches still ringing; they count as 408 (RFC 3261 §16.7).
func (f *fwd) timerC() {
	f.mu.Lock()
	others := f.pendingLocked(nil)
	for _, b := range others {
		b.timedOut = true
	}
	f.mu.Unlock()
	f.cancelBranches(others)
}

// cancelBranches sends CANCEL on each branch that has had a provisional answer, and
// marks the others to be cancelled when theirs comes (RFC 3261 §9.1).
func (f *fwd) cancelBranches(bs []*branch) {
	var now []*branch
	f.mu.Lock()
	for _, b := range bs {
		if b.final != nil || !b.req.IsInvite() {
			continue
		}
		b.cancelWanted = true
		if b.provisional && !b.cancelSent {
			b.cancelSent = true
			now = append(now, b)
		}
	}
	f.mu.Unlock()
	for _, b := range now {
		f.s.sendCancel(b)
	}
}

// sendCancel builds the CANCEL of a branch (RFC 3261 §9.1: its Via, Route, Call-ID,
// From, To and CSeq number) and runs its client transaction.
func (s *Server) sendCancel(b *branch) {
	c := sip.NewRequest(sip.CANCEL, *b.req.Recipient.Clone())
	c.AppendHeader(b.req.Via().Clone())
	for _, h := range b.req.GetHeaders("Route") {
		c.AppendHeader(sip.HeaderClone(h))
	}
	mf := sip.MaxForwardsHeader(70)
	c.AppendHeader(&mf)
	c.AppendHeader(sip.HeaderClone(b.req.From()))
	c.AppendHeader(sip.HeaderClone(b.req.To()))
	c.AppendHeader(sip.HeaderClone(b.req.CallID()))
	c.AppendHeader(&sip.CSeqHeader{SeqNo: b.req.CSeq().SeqNo, MethodName: sip.CANCEL})
	c.SetTransport(b.hop.transport)
	branchID, _ := b.req.Via().Params.Get("branch")
	key := clientKey(branchID, sip.CANCEL)
	tx := sip.NewClientTx(key, c, b.hop, s.proxy.txLog)
	if !s.proxy.addClient(key, tx) {
		return
	}
	if err := tx.Init(); err != nil {
		s.proxy.dropClient(key)
		return
	}
	go func() {
		defer s.proxy.dropClient(key)
		for {
			select {
			case <-tx.Responses():
			case <-tx.Done():
				return
			}
		}
	}()
}

// bestResponse picks the answer to forward when every branch ended without a 2xx
// (RFC 3261 §16.7 step 6): a 6xx first, else the lowest class; within a class a
// timeout last and a busy branch after other answers, so 486 goes back only when
// every phone was busy (or busy and not answering), 480 when they did not answer.
func bestResponse(bs []*branch) *sip.Response {
	var best *sip.Response
	bestRank := 1 << 30
	for _, b := range bs {
		r := b.final
		if r == nil {
			continue
		}
		code := r.StatusCode
		if b.timedOut {
			code = 408
		}
		rank := code / 100 * 10
		if code >= 600 {
			rank = 0
		}
		switch code {
		case 408:
			rank += 3
		case 486:
			rank += 2
		case 487:
			rank += 4
		default:
			rank++
		}
		if rank < bestRank {
			best, bestRank = r, rank
			if b.timedOut && r.StatusCode != 408 {
				best = r.Clone()
				best.StatusCode, best.Reason = 408, "Request Timeout"
			}
		}
	}
	if best != nil && best.StatusCode == 503 {
		// RFC 3261 §16.7 step 6: a 503 from downstream says nothing of us.
		best = best.Clone()
		best.StatusCode, best.Reason = 500, "Server Internal Error"
	}
	return best
}
