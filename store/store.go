package store

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Options configure Open.
type Options struct {
	// Dir is the data directory. The BadgerDB lives in Dir/db, the key file in Dir.
	// Empty means an in-memory store (tests) with a random key.
	Dir    string
	Logger *slog.Logger
	// Now is the clock; nil means time.Now. Tests inject one.
	Now func() time.Time
	// ReadOnly opens the database for reading only: every write fails.
	ReadOnly bool
}

// Store is the one handle on the database. It is safe for concurrent use.
type Store struct {
	db      *badger.DB
	dir     string
	log     *slog.Logger
	now     func() time.Time
	secrets *Secrets

	subMu sync.RWMutex
	subs  []*subscription
	order publishOrder

	seqMu   sync.Mutex
	lastSeq int64
}

// maxRetries bounds the retries of a transaction that lost a conflict.
const maxRetries = 20

// Open opens (or creates) the store.
func Open(opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	bo := badger.DefaultOptions("").WithInMemory(true)
	if opts.Dir != "" {
		if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		bo = badger.DefaultOptions(filepath.Join(opts.Dir, "db"))
	}
	// A small appliance: keep memory modest, but large enough that a 10,000-row CSV import
	// fits in one all-or-nothing transaction (max batch size is 15% of the memtable).
	bo = bo.WithLogger(badgerLogger{log}).
		WithMemTableSize(128 << 20).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithBlockCacheSize(32 << 20).
		WithIndexCacheSize(16 << 20).
		WithValueThreshold(64 << 10).
		WithNumCompactors(2)
	db, err := badger.Open(bo.WithReadOnly(opts.ReadOnly))
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{db: db, dir: opts.Dir, log: log, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	if s.secrets, err = loadSecrets(opts.Dir); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close flushes and closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Dir is the data directory ("" for an in-memory store).
func (s *Store) Dir() string { return s.dir }

// Secrets gives the key-file backed sealing and hashing of secrets.
func (s *Store) Secrets() *Secrets { return s.secrets }

// Now is the store's clock.
func (s *Store) Now() time.Time { return s.now() }

// Size reports the on-disk size of the LSM tree and value log, in bytes.
func (s *Store) Size() (lsm, vlog int64) { return s.db.Size() }

// Sync makes every committed write durable on disk.
func (s *Store) Sync() error { return s.db.Sync() }

// Backup writes a consistent full backup of the database to w.
func (s *Store) Backup(w io.Writer) error {
	_, err := s.db.Backup(w, 0)
	return err
}

// Restore loads a backup made by Backup into this (empty) store.
func (s *Store) Restore(r io.Reader) error { return s.db.Load(r, 256) }

// Tx is one read-write or read-only transaction. The store's typed methods take one, so
// several operations can share a transaction (an import writes thousands of users in one).
type Tx struct {
	s       *Store
	txn     *badger.Txn
	changes []Change
	sync    bool
	// extHint remembers, per tenant, the last extension this transaction handed out, so
	// an import of thousands of users does not probe the range from its start each time.
	extHint     map[string]int
	reservedExt map[string]bool
}

// Update runs fn in a read-write transaction, retrying on conflict, then makes it durable
// and publishes the changes it recorded.
func (s *Store) Update(fn func(tx *Tx) error) error { return s.update(true, fn) }

// UpdateLazy is Update without waiting for the disk: for records that may be lost in a
// power cut without harm (last-seen times, registrations that phones renew).
func (s *Store) UpdateLazy(fn func(tx *Tx) error) error { return s.update(false, fn) }

func (s *Store) update(durable bool, fn func(tx *Tx) error) error {
	for attempt := 0; ; attempt++ {
		tx := &Tx{s: s, txn: s.db.NewTransaction(true), sync: durable}
		err := fn(tx)
		if err != nil {
			tx.txn.Discard()
		} else if len(tx.changes) == 0 {
			err = tx.txn.Commit()
			if err == nil {
				return s.syncIf(durable)
			}
		} else {
			var committed bool
			if committed, err = s.commitInOrder(tx, durable); committed {
				return err // nil, or the sync's error: published either way
			}
		}
		if errors.Is(err, badger.ErrConflict) && attempt < maxRetries {
			continue
		}
		return commitError(err)
	}
}

func commitError(err error) error {
	if errors.Is(err, badger.ErrTxnTooBig) {
		return fmt.Errorf("transaction too large for one commit: %w", ErrInvalid)
	}
	return err
}

// syncIf makes the commits so far durable when durable is asked for and there is a disk.
func (s *Store) syncIf(durable bool) error {
	if durable && s.dir != "" {
		if err := s.db.Sync(); err != nil {
			return fmt.Errorf("sync: %w", err)
		}
	}
	return nil
}

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(tx *Tx) error) error {
	return s.db.View(func(txn *badger.Txn) error { return fn(&Tx{s: s, txn: txn}) })
}

// Store gives the store a transaction belongs to.
func (tx *Tx) Store() *Store { return tx.s }

func (tx *Tx) get(key string, v any) error {
	item, err := tx.txn.Get([]byte(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return item.Value(func(b []byte) error { return decode(b, v) })
}

func (tx *Tx) getRaw(key string) (string, error) {
	item, err := tx.txn.Get([]byte(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", err
	}
	b, err := item.ValueCopy(nil)
	return string(b), err
}

func (tx *Tx) exists(key string) (bool, error) {
	_, err := tx.txn.Get([]byte(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (tx *Tx) put(key string, v any) error {
	b, err := encode(v)
	if err != nil {
		return err
	}
	return tx.txn.Set([]byte(key), b)
}

func (tx *Tx) putTTL(key string, v any, ttl time.Duration) error {
	b, err := encode(v)
	if err != nil {
		return err
	}
	return tx.txn.SetEntry(badger.NewEntry([]byte(key), b).WithTTL(ttl))
}

func (tx *Tx) putRaw(key, val string) error { return tx.txn.Set([]byte(key), []byte(val)) }

func (tx *Tx) del(key string) error { return tx.txn.Delete([]byte(key)) }

// scan calls fn for every key with prefix, in key order, starting after the key
// prefix+after when after is not empty. fn returns false to stop. Values are only read
// when fn asks for them through the item.
type badgerItem = badger.Item

func (tx *Tx) scan(prefix, after string, keysOnly bool, fn func(key string, item *badger.Item) (bool, error)) error {
	o := badger.DefaultIteratorOptions
	o.Prefix = []byte(prefix)
	o.PrefetchValues = !keysOnly
	it := tx.txn.NewIterator(o)
	defer it.Close()
	start := []byte(prefix)
	if after != "" {
		start = append([]byte(prefix+after), 0)
	}
	for it.Seek(start); it.ValidForPrefix(o.Prefix); it.Next() {
		item := it.Item()
		more, err := fn(string(item.Key()), item)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// scanValues decodes each value under prefix into a fresh T.
func scanValues[T any](tx *Tx, prefix, after string, limit int, fn func(T) bool) error {
	n := 0
	return tx.scan(prefix, after, false, func(_ string, item *badger.Item) (bool, error) {
		var v T
		if err := item.Value(func(b []byte) error { return decode(b, &v) }); err != nil {
			return false, err
		}
		n++
		return fn(v) && (limit <= 0 || n < limit), nil
	})
}

type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any)   { b.l.Error(fmt.Sprintf(f, a...), "svc", "store") }
func (b badgerLogger) Warningf(f string, a ...any) { b.l.Warn(fmt.Sprintf(f, a...), "svc", "store") }
func (b badgerLogger) Infof(f string, a ...any)    {}
func (b badgerLogger) Debugf(f string, a ...any)   {}

func badgerReverse(prefix string) badger.IteratorOptions {
	o := badger.DefaultIteratorOptions
	o.Reverse = true
	o.Prefix = []byte(prefix)
	return o
}
