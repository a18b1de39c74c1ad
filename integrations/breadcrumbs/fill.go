package breadcrumbs

import (
	"net/url"
	"strings"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// omitted stands, while a URL is assembled, for a value that is absent:
// no value and no literal can produce it, since both are percent-encoded.
const omitted = "\x00"

// region is the part of a URL a placeholder lands in.
type region int

const (
	inHost region = iota
	inPath
	inQuery
	inFragment
)

// regionAt tells where text that follows lit (the template's literal text
// so far) lands.
func regionAt(lit string) region {
	switch {
	case strings.Contains(lit, "#"):
		return inFragment
	case strings.Contains(lit, "?"):
		return inQuery
	}
	i := strings.Index(lit, "://")
	if i < 0 || !strings.Contains(lit[i+3:], "/") {
		return inHost
	}
	return inPath
}

// fillURL fills a link template. Each value is percent-encoded as one
// component where it lands (path, query, fragment); a value in the host
// must be a host name. A template made of one placeholder alone takes the
// value as a whole URL. Where a value chooses the host, the host must be
// one that v trusts. It reports false when the link cannot be made: a
// malformed template, a needed value absent, or a result that is not an
// absolute http(s) URL.
func fillURL(tmpl string, v vars) (string, bool) {
	tmpl = strings.TrimSpace(tmpl)
	phs, err := runbooks.ParseTemplate(tmpl)
	if err != nil {
		return "", false
	}
	if len(phs) == 1 && phs[0].Offset == 0 && strings.HasSuffix(tmpl, "}}") && strings.Index(tmpl, "}}") == len(tmpl)-2 {
		val, ok := v.lookup(phs[0].Name)
		if !ok {
			return "", false
		}
		return v.trusted(checkURL(fixLiteral(strings.TrimSpace(val))))
	}
	var b, lit strings.Builder
	off := 0
	missing, hostFromValue := false, false
	for _, ph := range phs {
		seg := tmpl[off:ph.Offset]
		lit.WriteString(seg)
		b.WriteString(fixLiteral(seg))
		off = ph.Offset + 2 + strings.Index(tmpl[ph.Offset+2:], "}}") + 2
		val, ok := v.lookup(ph.Name)
		r := regionAt(lit.String())
		switch {
		case !ok && r == inQuery:
			b.WriteString(omitted)
			missing = true
		case !ok:
			return "", false
		case r == inHost:
			if !validHost(val) {
				return "", false
			}
			b.WriteString(strings.ToLower(val))
			hostFromValue = true
		default:
			b.WriteString(escapeComponent(val))
		}
	}
	b.WriteString(fixLiteral(tmpl[off:]))
	out := b.String()
	if missing {
		var ok bool
		if out, ok = dropOmitted(out); !ok {
			return "", false
		}
	}
	if hostFromValue {
		return v.trusted(checkURL(out))
	}
	return checkURL(out)
}

// trusted passes a link on only when its host is one that the
// configuration or the runbook names (trust.go).
func (v vars) trusted(u string, ok bool) (string, bool) {
	if !ok {
		return "", false
	}
	parsed, err := url.Parse(u)
	if err != nil || !v.trust.allows(parsed.Host) {
		return "", false
	}
	return u, true
}

// dropOmitted removes the query parameters whose whole value is absent. A
// parameter with an absent value among other text cannot be made.
func dropOmitted(s string) (string, bool) {
	q := strings.IndexByte(s, '?')
	if q < 0 {
		return "", false
	}
	end := len(s)
	if h := strings.IndexByte(s, '#'); h >= 0 {
		end = h
	}
	if strings.Contains(s[:q], omitted) || strings.Contains(s[end:], omitted) {
		return "", false
	}
	var kept []string
	for _, pair := range strings.Split(s[q+1:end], "&") {
		if !strings.Contains(pair, omitted) {
			kept = append(kept, pair)
			continue
		}
		if _, val, _ := strings.Cut(pair, "="); val != omitted {
			return "", false
		}
	}
	out := s[:q]
	if len(kept) > 0 {
		out += "?" + strings.Join(kept, "&")
	}
	return out + s[end:], true
}

// checkURL accepts an absolute http or https URL with a host.
func checkURL(s string) (string, bool) {
	if s == "" || strings.Contains(s, "{{") {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return s, true
	}
	return "", false
}

// escapeComponent percent-encodes every byte but the unreserved ones of
// RFC 3986, so that the value decodes the same in a path segment, a query
// value or a fragment, and "+" is never read as a space.
func escapeComponent(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 3)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// fixLiteral percent-encodes the bytes of a template's own text that may
// not appear in a URL as written (spaces, quotes, braces, non-ASCII, a
// "%" that starts no escape), as a browser would, and keeps its
// structure ("/", "?", "&", "=", "#") as it is.
func fixLiteral(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		bad := c <= ' ' || c >= 0x7f || strings.IndexByte("\"<>\\^`{|}", c) >= 0
		if c == '%' && !(i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2])) {
			bad = true
		}
		if !bad {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// validHost accepts a DNS name or an IPv4 address, optionally with a port.
func validHost(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == ':') {
			return false
		}
	}
	return s[0] != '.' && s[0] != '-' && s[0] != ':'
}

// queryLang is a family of query languages that quote and escape alike.
type queryLang int

const (
	// langPromQL: PromQL, LogQL, TraceQL. Strings in "..." or '...' take
	// backslash escapes; `...` takes none; a bare value is inserted as is.
	langPromQL queryLang = iota
	// langLucene: KQL, Lucene, Datadog. Strings in "..." take backslash
	// escapes; a bare value that is not a plain word is quoted.
	langLucene
)

// fillQuery fills a query template. Each value is escaped for the string
// literal it lands in (found by following the template's own quotes), or,
// outside quotes, as the language wants a bare term. A needed value that
// is absent, or one that no escape can carry, means no query.
func fillQuery(tmpl string, v vars, lang queryLang) (string, bool) {
	phs, err := runbooks.ParseTemplate(tmpl)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	var quote byte // the quote the text so far is inside, 0 when none
	off := 0
	scan := func(seg string) {
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			switch {
			case quote != 0 && quote != '`' && c == '\\':
				i++
			case quote != 0 && c == quote:
				quote = 0
			case quote == 0 && (c == '"' || c == '\'' || c == '`'):
				quote = c
			}
		}
	}
	for _, ph := range phs {
		seg := tmpl[off:ph.Offset]
		scan(seg)
		b.WriteString(seg)
		off = ph.Offset + 2 + strings.Index(tmpl[ph.Offset+2:], "}}") + 2
		val, ok := v.lookup(ph.Name)
		if !ok {
			return "", false
		}
		switch {
		case quote == '`':
			if strings.ContainsRune(val, '`') {
				return "", false
			}
			b.WriteString(val)
		case quote != 0:
			b.WriteString(escapeQuoted(val, quote))
		case lang == langLucene:
			b.WriteString(luceneTerm(val))
		default:
			b.WriteString(val)
		}
	}
	b.WriteString(tmpl[off:])
	return b.String(), true
}

// escapeQuoted escapes a value for a string literal quoted with q.
func escapeQuoted(s string, q byte) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\' || r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// luceneTerm writes a value where KQL, Lucene or Datadog expect a bare
// term: as it is when it is a plain word (letters, digits, "_", ".",
// "@", and "-" after the first character), else as a quoted phrase,
// which every one of them reads as that exact text.
func luceneTerm(s string) string {
	plain := s != ""
	for i := 0; plain && i < len(s); i++ {
		c := s[i]
		plain = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '@' || (c == '-' && i > 0)
	}
	if plain {
		return s
	}
	return `"` + escapeQuoted(s, '"') + `"`
}
