package digest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialtone/dialtone/internal/ratelimit"
)

// NonceLifetime is how long a nonce may be used (Kamailio's default, 300 s); after it a
// request with that nonce gets a fresh challenge with stale=true (RFC 7616 §3.3).
const NonceLifetime = 300 * time.Second

// nonce layout before base64: 4 bytes unix seconds, 5 bytes sequence, 12 bytes HMAC.
const (
	nonceRaw = 4 + 5 + 12
	NonceLen = (nonceRaw*8 + 5) / 6 // base64 raw URL length: 28
)

// Status is the verdict on a nonce presented in credentials.
type Status uint8

const (
	OK      Status = iota
	Invalid        // not ours (forged, garbled, sent elsewhere, from before a restart)
	Stale          // ours but expired, or its replay slot was reused
	Replay         // nc already used with this nonce
)

// Nonces mints and checks stateless nonces (RFC 7616 §3.3: timestamp + HMAC).
type Nonces struct {
	key  []byte
	seq  atomic.Uint64
	pool sync.Pool // *nonceMAC
	now  func() time.Time
	// ring holds, per slot, seq<<24 | highest nc seen (RFC 7616 §3.4: nc replay check).
	ring []atomic.Uint64
}

// NewNonces makes a nonce minter with a fresh per-process key. slots is the size of the
// nc replay window (rounded up to a power of two): each slot is 8 bytes, and a nonce
// whose slot was taken over by a newer nonce is treated as stale, so the memory is
// bounded whatever the load.
func NewNonces(now func() time.Time, slots int) *Nonces {
	size := 1
	for size < slots {
		size <<= 1
	}
	n := &Nonces{key: make([]byte, 32), now: now, ring: make([]atomic.Uint64, size)}
	if _, err := rand.Read(n.key); err != nil {
		panic("digest: no randomness: " + err.Error())
	}
	n.pool.New = func() any { return &nonceMAC{h: hmac.New(sha256.New, n.key), buf: make([]byte, 0, 256)} }
	return n
}

// nonceMAC is a reusable HMAC with scratch space, so that minting and checking a nonce
// allocate nothing.
type nonceMAC struct {
	h   hash.Hash
	buf []byte
}

// mac covers the nonce's head, the realm and the source the nonce was sent to (as
// ratelimit.Source counts it: an IPv6 client by its /64), so a nonce answers only from
// where it was sent. Kamailio's auth_checks_register source-IP check does the same: a
// spoofer who fetched a nonce from his own address cannot use it to pass for another.
func (n *Nonces) mac(dst []byte, head []byte, realm string, src netip.Addr) {
	m := n.pool.Get().(*nonceMAC)
	m.h.Reset()
	a := ratelimit.Source(src).As16()
	m.buf = append(append(append(m.buf[:0], head...), a[:]...), realm...)
	m.h.Write(m.buf)
	m.buf = m.h.Sum(m.buf[:0])
	copy(dst, m.buf)
	n.pool.Put(m)
}

// MintTo writes a fresh nonce for realm and the client at src into dst.
func (n *Nonces) MintTo(dst *[NonceLen]byte, realm string, src netip.Addr) {
	var raw [nonceRaw]byte
	binary.BigEndian.PutUint32(raw[0:4], uint32(n.now().Unix()))
	s := n.seq.Add(1) & (1<<40 - 1)
	raw[4], raw[5], raw[6], raw[7], raw[8] = byte(s>>32), byte(s>>24), byte(s>>16), byte(s>>8), byte(s)
	n.mac(raw[9:], raw[:9], realm, src)
	base64.RawURLEncoding.Encode(dst[:], raw[:])
}

// Check verifies nonce for realm and the client at src and, when record is set and all
// is well, records nc as used (only answers that proved the password consume an nc).
func (n *Nonces) Check(nonce, realm string, src netip.Addr, nc uint32, record bool) Status {
	if len(nonce) != NonceLen {
		return Invalid
	}
	var raw [nonceRaw]byte
	if k, err := base64.RawURLEncoding.Decode(raw[:], []byte(nonce)); err != nil || k != nonceRaw {
		return Invalid
	}
	var want [12]byte
	n.mac(want[:], raw[:9], realm, src)
	if !hmac.Equal(want[:], raw[9:]) {
		return Invalid
	}
	issued := time.Unix(int64(binary.BigEndian.Uint32(raw[0:4])), 0)
	age := n.now().Sub(issued)
	if age > NonceLifetime || age < -time.Minute {
		return Stale
	}
	if nc == 0 || nc >= 1<<24 {
		return Replay
	}
	s := uint64(raw[4])<<32 | uint64(raw[5])<<24 | uint64(raw[6])<<16 | uint64(raw[7])<<8 | uint64(raw[8])
	slot := &n.ring[s&uint64(len(n.ring)-1)]
	for {
		v := slot.Load()
		held := v >> 24
		switch {
		case held > s:
			return Stale // slot reused by a newer nonce: cannot vouch for this one
		case held == s && uint32(v&0xffffff) >= nc:
			return Replay
		}
		if !record {
			return OK
		}
		if slot.CompareAndSwap(v, s<<24|uint64(nc)) {
			return OK
		}
	}
}
