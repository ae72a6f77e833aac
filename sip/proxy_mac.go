package sip

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
)

// macs keeps keyed HMAC-SHA256 states for the Via branch and Record-Route seals, so a
// call does not build a new one (two SHA-256 states and the padded key hashed) for each
// seal made or checked: Reset returns a used state to the key's start.
type macs struct {
	key  [32]byte
	pool sync.Pool
}

func (m *macs) get() hash.Hash {
	if h, ok := m.pool.Get().(hash.Hash); ok {
		h.Reset()
		return h
	}
	return hmac.New(sha256.New, m.key[:])
}

func (m *macs) put(h hash.Hash) { m.pool.Put(h) }

// fnv64a is FNV-1a over parts joined by NUL bytes, without the hash/fnv object and the
// []byte copies of each part.
func fnv64a(parts ...string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i, s := range parts {
		if i > 0 {
			h *= prime // the NUL between parts: XOR with 0 changes nothing
		}
		for j := 0; j < len(s); j++ {
			h ^= uint64(s[j])
			h *= prime
		}
	}
	return h
}
