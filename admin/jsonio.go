package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// decode reads the JSON body into v: unknown fields, trailing data, wrong types and
// malformed JSON are 400 answers that name the field where they went wrong.
func (r *request) decode(v any) error {
	body := r.ctx.Request.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("", "a JSON body is required")
	}
	return decodeJSON(body, v)
}

func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err2 := dec.Token(); err2 != io.EOF {
			return badRequest("", "trailing data after the JSON value")
		}
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return badRequest("", "the body must be a JSON object")
		}
		return badRequest(field, fmt.Sprintf("%s must be %s, not %s", field, jsonKind(typ.Type.String()), typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return &Problem{Status: 400, Code: "unknown_field", Field: name, Message: "unknown field " + strconv.Quote(name)}
	case errors.As(err, &syn):
		return &Problem{Status: 400, Code: "malformed_json", Field: fieldAt(body, syn.Offset),
			Message: "malformed JSON at byte " + strconv.FormatInt(syn.Offset, 10) + ": " + syn.Error()}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Problem{Status: 400, Code: "malformed_json", Field: fieldAt(body, int64(len(body))),
			Message: "malformed JSON: the body ends too early"}
	}
	return &Problem{Status: 400, Code: "malformed_json", Message: "malformed JSON: " + err.Error()}
}

func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map"):
		return "an object"
	case goType == "bool" || goType == "*bool":
		return "true or false"
	case strings.Contains(goType, "int"):
		return "a whole number"
	case strings.Contains(goType, "string"), strings.HasPrefix(goType, "store."):
		return "a string"
	}
	return "of type " + goType
}

// fieldAt names the member being read when the JSON text broke at offset: it replays
// the tokens before it and keeps the path of object keys and array indexes.
func fieldAt(body []byte, offset int64) string {
	if offset > int64(len(body)) {
		offset = int64(len(body))
	}
	dec := json.NewDecoder(bytes.NewReader(body[:offset]))
	type frame struct {
		obj     bool
		key     string
		index   int
		wantKey bool
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		top := func() *frame {
			if len(stack) == 0 {
				return nil
			}
			return &stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if f := top(); f != nil && !f.obj {
					f.index++
				}
				stack = append(stack, frame{obj: t == '{', index: -1, wantKey: t == '{'})
			case '}', ']':
				stack = stack[:len(stack)-1]
				if f := top(); f != nil && f.obj {
					f.wantKey = true
				}
			}
		default:
			f := top()
			switch {
			case f == nil:
			case f.obj && f.wantKey:
				f.key, f.wantKey = fmt.Sprint(t), false
			case f.obj:
				f.wantKey = true
			default:
				f.index++
			}
		}
	}
	var parts []string
	for i, f := range stack {
		switch {
		case f.obj && f.key == "":
			return strings.Join(parts, ".")
		case f.obj:
			parts = append(parts, f.key)
		case i == len(stack)-1:
			// The innermost array broke while reading its next element.
			parts = append(parts, strconv.Itoa(f.index+1))
		case f.index >= 0:
			parts = append(parts, strconv.Itoa(f.index))
		}
	}
	return strings.Join(parts, ".")
}

// page is the answer of every list: {"items":[…],"next_cursor":"…"}.
type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

const (
	defaultLimit = 100
	maxLimit     = 1000
)

// paging reads ?limit= and ?cursor=.
func (r *request) paging() (limit int, cursor string, err error) {
	limit = defaultLimit
	if s := string(r.ctx.QueryArgs().Peek("limit")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			return 0, "", badRequest("limit", fmt.Sprintf("limit must be 1 to %d", maxLimit))
		}
		limit = n
	}
	cursor = string(r.ctx.QueryArgs().Peek("cursor"))
	// 0xff bounds a key range in the store's reverse scans (matched as a byte: it is
	// no UTF-8 character).
	if len(cursor) > 128 || strings.ContainsAny(cursor, "/\x00") || strings.IndexByte(cursor, 0xff) >= 0 {
		return 0, "", badRequest("cursor", "not a cursor from a previous page")
	}
	return limit, cursor, nil
}

// paginate cuts items fetched with limit+1 into a page; key gives an item's cursor.
func paginate[T any](items []T, limit int, key func(T) string) page[T] {
	p := page[T]{Items: items}
	if p.Items == nil {
		p.Items = []T{}
	}
	if len(items) > limit {
		p.Items = items[:limit]
		p.NextCursor = key(items[limit-1])
	}
	return p
}

func humanBytes(n int) string {
	if n%(1<<20) == 0 {
		return strconv.Itoa(n>>20) + " MiB"
	}
	return strconv.Itoa(n>>10) + " KiB"
}
