package userimport

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// sheet is a CSV file read into memory: the header as written, where each imported
// column sits, and the data rows with the line each starts on.
type sheet struct {
	header   []string
	index    [numColumns]int // field index per column, -1 when the file lacks it
	comma    rune
	rows     []record
	warnings []Issue
}

type record struct {
	line   int
	fields []string
}

// field gives a row's value of a column ("" when the file or the row lacks it).
func (s *sheet) field(r record, c column) string {
	i := s.index[c]
	if i < 0 || i >= len(r.fields) {
		return ""
	}
	return r.fields[i]
}

// columnName is the column's header as the file writes it, or its canonical name.
func (s *sheet) columnName(c column) string {
	if i := s.index[c]; i >= 0 {
		return s.header[i]
	}
	return columnNames[c]
}

// fileError rejects a whole file (not UTF-8, no header, broken quoting).
type fileError struct{ Issue }

func (e *fileError) Error() string { return e.Issue.String() }

func rejectFile(line int, column, format string, args ...any) *fileError {
	return &fileError{Issue{Line: line, Column: column, Message: fmt.Sprintf(format, args...)}}
}

var (
	bomUTF8    = []byte{0xef, 0xbb, 0xbf}
	bomUTF16LE = []byte{0xff, 0xfe}
	bomUTF16BE = []byte{0xfe, 0xff}
)

// readSheet parses a whole CSV body. It fails with a *fileError for a file it cannot
// read as a table, or with ErrTooLarge past MaxRows.
func readSheet(body []byte) (*sheet, error) {
	if bytes.HasPrefix(body, bomUTF16LE) || bytes.HasPrefix(body, bomUTF16BE) {
		return nil, rejectFile(1, "", "the file is UTF-16; save it as CSV UTF-8")
	}
	body = bytes.TrimPrefix(body, bomUTF8)
	if !utf8.Valid(body) {
		off := firstInvalidUTF8(body)
		return nil, rejectFile(1+bytes.Count(body[:off], []byte("\n")), "",
			"not valid UTF-8 (byte %d of the line); save the file as CSV UTF-8", off-bytes.LastIndexByte(body[:off], '\n'))
	}
	s := &sheet{}
	lineOffset := 0
	first, rest, hasRest := bytes.Cut(body, []byte("\n"))
	first = bytes.TrimSuffix(first, []byte("\r"))
	// Excel writes "sep=;" as a first line to name the separator.
	if len(first) == 5 && strings.EqualFold(string(first[:4]), "sep=") {
		s.comma = rune(first[4])
		body = rest
		if hasRest {
			lineOffset = 1
		}
	} else {
		s.comma = detectComma(first)
	}
	if s.comma == '"' || s.comma == '\r' || s.comma == '\n' || s.comma == utf8.RuneError {
		return nil, rejectFile(1, "", "sep= line names no usable separator")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, rejectFile(1+lineOffset, "", "the file is empty: a header row is required")
	}
	err := s.readRows(body, lineOffset, false)
	var pe *csv.ParseError
	if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrBareQuote) {
		// 3CX writes its role column as <role name="managers" /> without quoting the
		// field: read quotes inside unquoted fields as they are.
		s.rows, s.warnings = nil, append(s.warnings[:0], Issue{Line: pe.Line + lineOffset,
			Message: "quotes inside an unquoted field (first at character " + strconv.Itoa(pe.Column) + ") are read as they are"})
		err = s.readRows(body, lineOffset, true)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// readRows reads the header and the data rows.
func (s *sheet) readRows(body []byte, lineOffset int, lazy bool) error {
	cr := csv.NewReader(bytes.NewReader(body))
	cr.Comma = s.comma
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = lazy
	header, err := cr.Read()
	if err != nil {
		return csvError(err, lineOffset)
	}
	headerLine, _ := cr.FieldPos(0)
	if err := s.readHeader(header, headerLine+lineOffset); err != nil {
		return err
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvError(err, lineOffset)
		}
		if blank(rec) {
			continue
		}
		line, _ := cr.FieldPos(0)
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		if len(s.rows) >= MaxRows {
			return fmt.Errorf("%w: more than %d rows; split the file", ErrTooLarge, MaxRows)
		}
		s.rows = append(s.rows, record{line: line + lineOffset, fields: rec})
	}
}

// readHeader maps the header's names to columns and warns of those it ignores.
func (s *sheet) readHeader(header []string, line int) error {
	for c := range s.index {
		s.index[c] = -1
	}
	s.header = make([]string, len(header))
	for i, h := range header {
		h = strings.TrimSpace(h)
		s.header[i] = h
		key := foldHeader(h)
		c, ok := columnAliases[key]
		switch {
		case key == "":
			s.warnings = append(s.warnings, Issue{Line: line, Column: fmt.Sprintf("#%d", i+1),
				Message: "column without a name: ignored"})
		case !ok && threeCXColumns[key]:
			s.warnings = append(s.warnings, Issue{Line: line, Column: h,
				Message: "3CX column not used by Dialtone: ignored"})
		case !ok:
			s.warnings = append(s.warnings, Issue{Line: line, Column: h,
				Message: "unknown column: ignored"})
		case s.index[c] >= 0:
			return rejectFile(line, h, "column %s is given twice (also as %q)", columnNames[c], s.header[s.index[c]])
		default:
			s.index[c] = i
		}
	}
	for _, c := range []column{colFirstName, colLastName} {
		if s.index[c] < 0 {
			return rejectFile(line, columnNames[c],
				"header row required with a %s column (columns are separated by %q; found %q)",
				columnNames[c], s.comma, strings.Join(s.header, string(s.comma)))
		}
	}
	return nil
}

// detectComma picks the separator that occurs most often outside quotes in the header.
func detectComma(header []byte) rune {
	counts := map[byte]int{}
	quoted := false
	for _, c := range header {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ',' || c == ';' || c == '\t'):
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return rune(best)
}

func csvError(err error, lineOffset int) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrBareQuote) {
		return err // readSheet retries with lazy quotes
	}
	if errors.As(err, &pe) {
		return rejectFile(pe.Line+lineOffset, "", "CSV syntax: %v (character %d)", pe.Err, pe.Column)
	}
	return rejectFile(1, "", "CSV: %v", err)
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}
