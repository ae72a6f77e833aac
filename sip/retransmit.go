package sip

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/dialtone/dialtone/internal/digest"
)

// Retransmissions over UDP (RFC 3261 §17.2.2). A REGISTER is answered without a server
// transaction, so a retransmitted request is processed again; what the client must see
// is the answer it saw before, byte for byte: SIPp, like many phones, takes an answer
// that differs from the first as a new, unexpected one and fails the registration.
//
//   - A retransmitted first REGISTER (no credentials) gets the same challenge: the nonce
//     minted for a request is remembered by its transaction key (Via branch, sent-by
//     source, Call-ID, CSeq) in challengeCache, a fixed-size set-associative table, so
//     the memory is bounded whatever the load.
//   - REGISTERs of one AOR are serialised from authentication to answer (aorLocks), so a
//     retransmitted REGISTER with credentials finds the binding its original made and
//     is answered from it (RFC 3261 §10.3 step 7), never challenged as a replay.
//   - An accepted REGISTER is remembered by its transaction key in its AOR (the last
//     recentAccepted of them, bindings.go), so the memory grows with authenticated
//     AORs only, never with the request rate: a retransmission that arrives after a
//     newer REGISTER replaced the binding (its nc is spent) is answered 200 with the
//     current bindings, changing nothing, instead of a challenge.

const (
	challengeWays = 8
	challengeSets = 1 << 14 // 128 Ki remembered challenges, about 6 MiB
	// challengeTTL covers the retransmissions of a non-INVITE request (Timer F, 32 s).
	challengeTTL = 32 * time.Second
)

type challengeEntry struct {
	key   uint64
	at    int64 // unix nanoseconds; 0 = empty
	nonce [digest.NonceLen]byte
}

type challengeSet struct {
	mu      sync.Mutex
	entries [challengeWays]challengeEntry
}

// challengeCache remembers the nonce sent to each recent unauthenticated request.
type challengeCache struct {
	seed maphash.Seed
	sets []challengeSet
	now  func() time.Time
}

func newChallengeCache(now func() time.Time) *challengeCache {
	return &challengeCache{seed: maphash.MakeSeed(), sets: make([]challengeSet, challengeSets), now: now}
}

// transactionKey hashes what identifies a request's server transaction (RFC 3261
// §17.2.3: branch and sent-by; the source address, Call-ID, CSeq number and method
// guard against clients that reuse a branch).
func (c *challengeCache) transactionKey(req *sip.Request, src netip.AddrPort) uint64 {
	var branch, host, callID string
	var seq uint32
	if via := req.Via(); via != nil {
		branch, _ = via.Params.Get("branch")
		host = via.Host
	}
	if id := req.CallID(); id != nil {
		callID = string(*id)
	}
	if cs := req.CSeq(); cs != nil {
		seq = cs.SeqNo
	}
	return c.txKey(branch, host, src, callID, seq, string(req.Method))
}

// txKey is transactionKey from the values themselves (fastpath.go has no parsed request).
func (c *challengeCache) txKey(branch, host string, src netip.AddrPort, callID string, seq uint32, method string) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	h.WriteString(branch)
	h.WriteByte(0)
	h.WriteString(host)
	h.WriteByte(0)
	a := src.Addr().As16()
	h.Write(a[:])
	h.WriteByte(byte(src.Port() >> 8))
	h.WriteByte(byte(src.Port()))
	h.WriteString(callID)
	h.WriteByte(0)
	n := [4]byte{byte(seq >> 24), byte(seq >> 16), byte(seq >> 8), byte(seq)}
	h.Write(n[:])
	h.WriteString(method)
	k := h.Sum64()
	if k == 0 {
		k = 1
	}
	return k
}

// nonceFor returns the nonce already sent for key, or mints one for realm and the client
// at src and remembers it. The oldest entry of the set makes room.
func (c *challengeCache) nonceFor(key uint64, realm string, src netip.Addr, n *digest.Nonces) [digest.NonceLen]byte {
	set := &c.sets[key&(challengeSets-1)]
	now := c.now().UnixNano()
	set.mu.Lock()
	defer set.mu.Unlock()
	oldest := 0
	for i := range set.entries {
		e := &set.entries[i]
		if e.key == key && e.at != 0 && now-e.at < int64(challengeTTL) {
			return e.nonce
		}
		if e.at < set.entries[oldest].at {
			oldest = i
		}
	}
	e := &set.entries[oldest]
	n.MintTo(&e.nonce, realm, src)
	e.key, e.at = key, now
	return e.nonce
}

// aorLocks serialise the REGISTERs of one AOR from authentication to answer; striped,
// so no per-AOR state exists before a request authenticates.
type aorLocks struct {
	seed    maphash.Seed
	stripes [256]sync.Mutex
}

func (l *aorLocks) lock(tenant, user string) *sync.Mutex {
	var h maphash.Hash
	h.SetSeed(l.seed)
	h.WriteString(tenant)
	h.WriteByte(0)
	h.WriteString(user)
	m := &l.stripes[h.Sum64()&255]
	m.Lock()
	return m
}
