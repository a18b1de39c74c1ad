package breadcrumbs

import (
	"strconv"
	"strings"
)

// Rison is the compact JSON-like notation Kibana keeps its state in
// (_g and _a of a Discover URL). risonObj keeps its keys in order, so that
// the URLs are deterministic.
type risonObj []risonPair

type risonPair struct {
	key string
	val any // string, bool, int, risonObj or []any
}

// rison encodes v: objects as (k:v,...), lists as !(...), true and false
// as !t and !f, and strings bare when they are identifiers, else in
// single quotes with ' and ! escaped by !.
func rison(v any) string {
	var b strings.Builder
	writeRison(&b, v)
	return b.String()
}

func writeRison(b *strings.Builder, v any) {
	switch t := v.(type) {
	case risonObj:
		b.WriteByte('(')
		for i, p := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			writeRisonString(b, p.key)
			b.WriteByte(':')
			writeRison(b, p.val)
		}
		b.WriteByte(')')
	case []any:
		b.WriteString("!(")
		for i, x := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			writeRison(b, x)
		}
		b.WriteByte(')')
	case bool:
		if t {
			b.WriteString("!t")
		} else {
			b.WriteString("!f")
		}
	case int:
		b.WriteString(strconv.Itoa(t))
	case string:
		writeRisonString(b, t)
	default:
		b.WriteString("!n")
	}
}

// risonIDChar reports whether c may appear in a bare rison identifier.
func risonIDChar(c byte) bool {
	return c > ' ' && c < 0x7f && strings.IndexByte(" '!:(),*@$", c) < 0
}

func writeRisonString(b *strings.Builder, s string) {
	bare := s != "" && !(s[0] >= '0' && s[0] <= '9') && s[0] != '-'
	for i := 0; bare && i < len(s); i++ {
		bare = risonIDChar(s[i])
	}
	if bare {
		b.WriteString(s)
		return
	}
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' || s[i] == '!' {
			b.WriteByte('!')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
}

// escapeRisonForURL percent-encodes rison for a URL's fragment, keeping
// the characters rison is written with and a URL allows as they are, so
// that the link stays readable.
func escapeRisonForURL(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || strings.IndexByte("!'()*,:@$", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
