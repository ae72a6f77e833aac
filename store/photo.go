package store

import "fmt"

// Photos are kept in the store itself (under the data directory, in the same transaction
// as the user record), so a backup carries them and deleting a user removes them with
// everything else:
//
//	t/{slug}/photo/{user-id}     JPEG bytes (already checked and scaled by the writer)

func photoKey(slug, id string) string { return "t/" + slug + "/photo/" + id }

// MaxPhotoBytes bounds a stored photo (after scaling to 256 px it is far smaller).
const MaxPhotoBytes = 512 << 10

func init() {
	userDeleteHooks = append(userDeleteHooks, func(tx *Tx, u User) error {
		return tx.del(photoKey(u.Tenant, u.ID))
	})
}

// SavePhoto stores a user's photo (JPEG) and marks the user as having one; the user
// change event lets the directory pick it up.
func (tx *Tx) SavePhoto(slug, id string, jpeg []byte) error {
	if len(jpeg) == 0 || len(jpeg) > MaxPhotoBytes {
		return invalid("photo", "photo must be 1 byte to %d KiB", MaxPhotoBytes>>10)
	}
	u, err := tx.User(slug, id)
	if err != nil {
		return err
	}
	if err := tx.txn.Set([]byte(photoKey(slug, id)), append([]byte{valueVersion}, jpeg...)); err != nil {
		return err
	}
	next := u
	next.Photo = true
	return tx.SaveUser(u, next)
}

// DeletePhoto removes a user's photo.
func (tx *Tx) DeletePhoto(slug, id string) error {
	u, err := tx.User(slug, id)
	if err != nil {
		return err
	}
	if err := tx.del(photoKey(slug, id)); err != nil {
		return err
	}
	if !u.Photo {
		return nil
	}
	next := u
	next.Photo = false
	return tx.SaveUser(u, next)
}

// Photo reads a user's photo (JPEG); ErrNotFound when there is none.
func (tx *Tx) Photo(slug, id string) ([]byte, error) {
	b, err := tx.getRaw(photoKey(slug, id))
	if err != nil {
		return nil, fmt.Errorf("photo of %q: %w", id, err)
	}
	if len(b) < 1 || b[0] != valueVersion {
		return nil, fmt.Errorf("photo of %q: %w", id, ErrCorrupt)
	}
	return []byte(b[1:]), nil
}

// Photo reads a user's photo (JPEG).
func (s *Store) Photo(slug, id string) (b []byte, err error) {
	err = s.View(func(tx *Tx) error { b, err = tx.Photo(slug, id); return err })
	return b, err
}
