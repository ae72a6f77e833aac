package provision

import "sync/atomic"

// tftpResult is how a TFTP read request ended, for Stats.
type tftpResult int

const (
	tftpOK       tftpResult = iota // the whole file was sent and acknowledged
	tftpNotFound                   // no such file, token or phone
	tftpRefused                    // throttled (scan) or HTTPS-only
	tftpTimeout                    // cut off at Config.TFTPTransferTime
	tftpFailed                     // the peer stopped answering or sent an error
	tftpResults
)

var tftpResultNames = [tftpResults]string{"ok", "not_found", "refused", "timeout", "failed"}

// tftpCounts counts finished TFTP transfers by result.
type tftpCounts [tftpResults]atomic.Uint64

func (p *Provisioner) tftpDone(r tftpResult) { p.tftpCounts[r].Add(1) }

// Stats is what the provisioner counts, for metrics.
type Stats struct {
	// TFTP is finished transfers by result: ok, not_found, refused, timeout, failed.
	TFTP map[string]uint64
	// Render cache: lookups answered from it and not, what it holds (bytes as the cap
	// counts them) and its entries.
	CacheHits, CacheMisses uint64
	CacheBytes             int64
	CacheEntries           int
}

// Stats reads the counts and the render cache's size.
func (p *Provisioner) Stats() Stats {
	s := Stats{TFTP: make(map[string]uint64, tftpResults)}
	for i := range p.tftpCounts {
		s.TFTP[tftpResultNames[i]] = p.tftpCounts[i].Load()
	}
	c := p.cache
	c.mu.Lock()
	s.CacheHits, s.CacheMisses, s.CacheBytes, s.CacheEntries = c.hits, c.misses, c.bytes, len(c.m)
	c.mu.Unlock()
	return s
}
