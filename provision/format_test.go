package provision

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// parseYealink reads Yealink's config grammar: first line "#!version:1.0.0.1",
// then lines that are empty, comments (#), include:config "file" (boot files)
// or "key = value" with a key of [A-Za-z0-9._-]. A key given twice is an error
// (it would mean the template and a raw setting both wrote it).
func parseYealink(b []byte) (map[string]string, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	if !sc.Scan() || sc.Text() != "#!version:1.0.0.1" {
		return nil, fmt.Errorf("line 1: want #!version:1.0.0.1")
	}
	out := map[string]string{}
	n := 1
	for sc.Scan() {
		n++
		t := sc.Text()
		switch {
		case t == "" || strings.HasPrefix(t, "#"):
			continue
		case strings.HasPrefix(t, "include:config "):
			out["include:"+strings.Trim(strings.TrimPrefix(t, "include:config "), `"<>`)] = ""
			continue
		}
		k, v, ok := strings.Cut(t, " = ")
		if !ok || !validKey(k) {
			return nil, fmt.Errorf("line %d: not key = value: %q", n, t)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("line %d: key %s given twice", n, k)
		}
		out[k] = v
	}
	return out, sc.Err()
}

// xmlDoc is a parsed XML file: every element's text by its path
// (root/child/…; an idx or index attribute is appended as [n]), and every
// attribute by path@name.
type xmlDoc map[string]string

func parseXML(b []byte) (xmlDoc, string, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	doc := xmlDoc{}
	var path []string
	var text strings.Builder
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			for _, a := range t.Attr {
				if a.Name.Local == "idx" || a.Name.Local == "index" {
					name += "[" + a.Value + "]"
				}
			}
			if root == "" {
				root = name
			}
			path = append(path, name)
			p := strings.Join(path, "/")
			for _, a := range t.Attr {
				doc[p+"@"+a.Name.Local] = a.Value
			}
			text.Reset()
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			p := strings.Join(path, "/")
			if s := strings.TrimSpace(text.String()); s != "" {
				if _, dup := doc[p]; dup {
					return nil, "", fmt.Errorf("element %s given twice", p)
				}
				doc[p] = s
			}
			text.Reset()
			path = path[:len(path)-1]
		}
	}
	if root == "" {
		return nil, "", fmt.Errorf("no root element")
	}
	return doc, root, nil
}
