package store

import (
	"strconv"
	"sync/atomic"
	"testing"
)

// Writers on several goroutines each renaming their own user, with a subscriber: the
// cost of publishing in commit order.
func BenchmarkParallelUserUpdates(b *testing.B) {
	s, err := Open(Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, _, err := s.Bootstrap("correct horse battery"); err != nil {
		b.Fatal(err)
	}
	var ids []string
	for i := range 16 {
		var u User
		if err := s.Update(func(tx *Tx) (err error) {
			u, _, err = tx.CreateUser("default", NewUser{FirstName: "U" + strconv.Itoa(i), LastName: "X"})
			return err
		}); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	var seen atomic.Int64
	defer s.Subscribe(func(Change) { seen.Add(1) }, KindUser)()
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		id := ids[int(next.Add(1))%len(ids)]
		n := 0
		for pb.Next() {
			n++
			err := s.Update(func(tx *Tx) error {
				u, err := tx.User("default", id)
				if err != nil {
					return err
				}
				next := u
				next.LastName = "X" + strconv.Itoa(n)
				return tx.SaveUser(u, next)
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
