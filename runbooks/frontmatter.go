package runbooks

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	yaml "go.yaml.in/yaml/v3"
)

// frontMatter is the raw front matter of a page, decoded into plain values,
// with the line of every top-level key and of every item of a list value.
type frontMatter struct {
	format   string // "yaml", "toml" or "none"
	bodyLine int    // first line after the closing delimiter (1-based)
	fields   map[string]any
	keyLine  map[string]int
	itemLine map[string][]int
	diags    []Diagnostic
}

// splitFrontMatter finds front matter at the top of src: YAML between
// "---" lines (closed by "---" or "..."), or TOML between "+++" lines. It
// returns the content, its syntax and the 1-based line of its first content
// line, and the line after the closing delimiter. An opening delimiter with
// no closing one is reported and the page is read as having none.
func splitFrontMatter(src []byte) (fm frontMatter, content []byte) {
	fm.format = "none"
	fm.bodyLine = 1
	first, rest, _ := bytes.Cut(src, []byte("\n"))
	delim := string(bytes.TrimRight(first, " \t"))
	var closers []string
	switch delim {
	case "---":
		fm.format, closers = "yaml", []string{"---", "..."}
	case "+++":
		fm.format, closers = "toml", []string{"+++"}
	default:
		return fm, nil
	}
	line := 2
	offset := 0
	for offset <= len(rest) {
		end := bytes.IndexByte(rest[offset:], '\n')
		var l []byte
		if end < 0 {
			l = rest[offset:]
		} else {
			l = rest[offset : offset+end]
		}
		trimmed := string(bytes.TrimRight(l, " \t"))
		for _, c := range closers {
			if trimmed == c {
				fm.bodyLine = line + 1
				return fm, rest[:offset]
			}
		}
		if end < 0 {
			break
		}
		offset += end + 1
		line++
	}
	fm.diags = append(fm.diags, Diagnostic{Line: 1, Severity: SeverityError, Rule: "front-matter",
		Message: fmt.Sprintf("front matter opened with %q is never closed; the page is read as if it had none", delim)})
	fm.format = "none"
	return fm, nil
}

var yamlErrLine = regexp.MustCompile(`line (\d+)`)

// decode fills fields from the front matter's content, which starts on
// line 2 of the page. Broken syntax is a diagnostic; the keys that can be
// read on their own are kept.
func (fm *frontMatter) decode(content []byte) {
	fm.fields = map[string]any{}
	fm.keyLine = map[string]int{}
	fm.itemLine = map[string][]int{}
	if len(bytes.TrimSpace(content)) == 0 {
		return
	}
	const firstLine = 2
	var err error
	switch fm.format {
	case "yaml":
		err = fm.decodeYAML(content, firstLine)
	case "toml":
		err = fm.decodeTOML(content, firstLine)
	}
	if err == nil {
		return
	}
	// Read what can be read: each top-level key on its own.
	fm.fields = map[string]any{}
	fm.keyLine = map[string]int{}
	fm.itemLine = map[string][]int{}
	recovered := 0
	var broken []chunk
	var brokenErr []error
	for _, c := range topLevelChunks(content, fm.format) {
		var cerr error
		if fm.format == "yaml" {
			cerr = fm.decodeYAML(c.text, firstLine+c.line)
		} else {
			cerr = fm.decodeTOML(c.text, firstLine+c.line)
		}
		if cerr == nil {
			recovered++
		} else {
			broken, brokenErr = append(broken, c), append(brokenErr, cerr)
		}
	}
	note := "nothing in it could be read"
	if recovered > 0 {
		note = "the keys that could be read on their own were kept"
	}
	// Point at the key that cannot be read on its own: decoders' own line
	// numbers are not always reliable for unclosed brackets and quotes.
	if len(broken) == 0 {
		line, msg := errorLine(err)
		fm.addBroken(line+firstLine-1, msg, note)
		return
	}
	for i, c := range broken {
		_, msg := errorLine(brokenErr[i])
		fm.addBroken(firstLine+c.line, msg, note)
	}
}

func (fm *frontMatter) addBroken(line int, msg, note string) {
	if line < 1 {
		line = 1
	}
	fm.diags = append(fm.diags, Diagnostic{Line: line, Severity: SeverityError, Rule: "front-matter",
		Message: fmt.Sprintf("broken %s front matter: %s; %s", strings.ToUpper(fm.format), msg, note)})
}

// errorLine extracts the 1-based line within the front matter that a
// decoder's error points at, and the message without its prefix.
func errorLine(err error) (int, string) {
	var perr toml.ParseError
	if errors.As(err, &perr) {
		return perr.Position.Line, perr.Message
	}
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	msg = strings.TrimPrefix(msg, "toml: ")
	if m := yamlErrLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		msg = strings.TrimSpace(strings.TrimPrefix(strings.Replace(msg, m[0]+":", "", 1), " "))
		return n, msg
	}
	return 0, msg
}

func (fm *frontMatter) decodeYAML(content []byte, firstLine int) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(content, &doc); err != nil {
		return err
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: front matter must be a mapping of keys to values", root.Line)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		var val any
		if err := v.Decode(&val); err != nil {
			return fmt.Errorf("line %d: %s: %w", v.Line, k.Value, err)
		}
		fm.fields[k.Value] = normalizeYAML(val)
		fm.keyLine[k.Value] = firstLine + k.Line - 1
		if v.Kind == yaml.SequenceNode {
			lines := make([]int, len(v.Content))
			for j, item := range v.Content {
				lines[j] = firstLine + item.Line - 1
			}
			fm.itemLine[k.Value] = lines
		}
		if v.Kind == yaml.MappingNode {
			var lines []int
			for j := 0; j+1 < len(v.Content); j += 2 {
				lines = append(lines, firstLine+v.Content[j].Line-1)
			}
			fm.itemLine[k.Value] = lines
		}
	}
	return nil
}

// normalizeYAML turns map[any]any-like values into map[string]any so that
// the rest of the parser sees one shape whatever the syntax.
func normalizeYAML(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = normalizeYAML(x)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[fmt.Sprint(k)] = normalizeYAML(x)
		}
		return m
	case []any:
		for i, x := range t {
			t[i] = normalizeYAML(x)
		}
		return t
	}
	return v
}

var tomlKeyLine = regexp.MustCompile(`^\s*(\[\[?\s*)?"?([A-Za-z0-9_.-]+)"?`)

func (fm *frontMatter) decodeTOML(content []byte, firstLine int) error {
	var m map[string]any
	if _, err := toml.Decode(string(content), &m); err != nil {
		return err
	}
	// TOML keeps no positions: find each top-level key's line by its text.
	lines := strings.Split(string(content), "\n")
	seen := map[string]int{}
	for i, l := range lines {
		mm := tomlKeyLine.FindStringSubmatch(l)
		if mm == nil || strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		key := strings.SplitN(mm[2], ".", 2)[0]
		if mm[1] == "" && !strings.Contains(l, "=") {
			continue
		}
		if _, ok := m[key]; !ok {
			continue
		}
		if _, ok := seen[key]; !ok {
			seen[key] = firstLine + i
		}
		if strings.HasPrefix(strings.TrimSpace(mm[1]), "[[") {
			fm.itemLine[key] = append(fm.itemLine[key], firstLine+i)
		}
	}
	for k, v := range m {
		nv := normalizeTOML(v)
		if old, ok := fm.fields[k].([]any); ok {
			if add, ok := nv.([]any); ok {
				nv = append(old, add...)
			}
		}
		fm.fields[k] = nv
		if _, ok := fm.keyLine[k]; !ok {
			fm.keyLine[k] = seen[k]
		}
	}
	return nil
}

func normalizeTOML(v any) any {
	switch t := v.(type) {
	case []map[string]any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = normalizeTOML(x)
		}
		return out
	case map[string]any:
		for k, x := range t {
			t[k] = normalizeTOML(x)
		}
		return t
	case []any:
		for i, x := range t {
			t[i] = normalizeTOML(x)
		}
		return t
	}
	return v
}

type chunk struct {
	line int // 0-based line within the front matter
	text []byte
}

// topLevelChunks splits front matter at its top-level keys (and, for TOML,
// its table headers), so that each can be decoded on its own when the
// whole cannot.
func topLevelChunks(content []byte, format string) []chunk {
	lines := bytes.Split(content, []byte("\n"))
	var out []chunk
	start := -1
	inTable := false
	flush := func(end int) {
		if start >= 0 {
			out = append(out, chunk{line: start, text: bytes.Join(lines[start:end], []byte("\n"))})
		}
	}
	for i, l := range lines {
		if len(l) == 0 || l[0] == ' ' || l[0] == '\t' || l[0] == '#' {
			continue
		}
		isStart := false
		if format == "toml" {
			if l[0] == '[' {
				isStart, inTable = true, true
			} else if !inTable && bytes.Contains(l, []byte("=")) {
				isStart = true
			}
		} else if l[0] != '-' && bytes.Contains(l, []byte(":")) {
			isStart = true
		}
		if isStart {
			flush(i)
			start = i
		}
	}
	flush(len(lines))
	return out
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
