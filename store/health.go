package store

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// healthKey is the key /readyz writes and deletes: nothing reads it.
const healthKey = "health/probe"

// Probe writes a key and deletes it again, each in its own committed transaction, and
// answers the first error: a store that is read-only, closed or failing to write says so.
func (s *Store) Probe() error {
	err := s.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(healthKey), []byte{1}) })
	if err == nil {
		err = s.db.Update(func(txn *badger.Txn) error { return txn.Delete([]byte(healthKey)) })
	}
	switch {
	case errors.Is(err, badger.ErrReadOnlyTxn):
		return fmt.Errorf("read-only: %w", err)
	case errors.Is(err, badger.ErrDBClosed):
		return fmt.Errorf("closed: %w", err)
	}
	return err
}
