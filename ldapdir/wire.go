package ldapdir

// An entry keeps the last SearchResultEntry protocolOp ([APPLICATION 4], RFC 4511 §4.5.2)
// it was sent as, with the attribute selection it was encoded for. Phones ask for the same
// few attributes on every search, so a reply is mostly the message envelope and one copy
// of bytes that sit together in memory. Entries are immutable (a change makes a new entry
// in the next snapshot), so what is kept never goes stale; a search with another selection
// encodes anew and replaces it (only encodings up to maxWireEntry are kept). The selection
// alone decides the bytes: requested names the directory does not know select nothing,
// and operational values (entryDN, hasSubordinates…) are fixed per entry.

// maxWireEntry bounds what an entry keeps: a larger encoding (one with a photo) is made
// for each reply instead, so the directory's memory never holds the photo twice.
const maxWireEntry = 1024

// wireKey is what an encoded entry depends on besides the entry itself.
type wireKey struct {
	mask      uint32
	allUser   bool
	allOp     bool
	typesOnly bool
}

type wireEntry struct {
	key wireKey
	b   []byte
}
