package store

import (
	"encoding/json"
	"fmt"
)

// valueVersion is the first byte of every record value. Bump it when a record's
// encoding changes and teach decode to read the older form.
const valueVersion byte = 1

func encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(b)+1)
	out = append(out, valueVersion)
	return append(out, b...), nil
}

func decode(b []byte, v any) error {
	if len(b) == 0 {
		return fmt.Errorf("empty value: %w", ErrCorrupt)
	}
	if b[0] != valueVersion {
		return fmt.Errorf("value version %d: %w", b[0], ErrCorrupt)
	}
	return json.Unmarshal(b[1:], v)
}
