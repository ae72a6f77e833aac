package provision

import "sync"

// parseMemo keeps what a request's file name and User-Agent say (ParseFileName,
// ParseUserAgent), so a phone's repeat fetch does not parse them again. Both are pure
// functions of the two strings, so nothing ever makes an entry stale; made-up names
// and User-Agents only churn the table, which starts over when full.
type parseMemo struct {
	mu sync.RWMutex
	m  map[parseKey]parsed
}

type parseKey struct{ path, ua string }

type parsed struct {
	req FileRequest
	ua  UserAgent
	ok  bool // the file name is one that is served
}

// maxParsed bounds the memo: a few MiB at most (paths and User-Agents are capped).
const maxParsed = 4096

func (c *Catalogue) parse(memo *parseMemo, path, ua string) parsed {
	k := parseKey{path, ua}
	memo.mu.RLock()
	v, hit := memo.m[k]
	memo.mu.RUnlock()
	if hit {
		return v
	}
	v.req, v.ok = c.ParseFileName(path)
	if v.ok {
		v.ua = ParseUserAgent(ua)
	}
	memo.mu.Lock()
	if len(memo.m) >= maxParsed || memo.m == nil {
		memo.m = make(map[parseKey]parsed)
	}
	memo.m[k] = v
	memo.mu.Unlock()
	return v
}
