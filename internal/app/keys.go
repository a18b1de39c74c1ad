package app

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// A configuration key is declared once, as a field of Config (or of a
// struct under it) with its YAML name and, when it has one, its default:
//
//	MaxPending int `yaml:"max_pending" default:"50000"`
//
// Every scalar key (a string, a bool, an int, a duration, a *bool) can
// then be set from BREADCRUMB_ and its YAML path in capitals, "." made
// "_": alertmanager.max_pending is BREADCRUMB_ALERTMANAGER_MAX_PENDING.
// Lists and maps are set in the file only. docs/configuration.md lists
// every key and variable, which a test holds against this table.

// key is one scalar key of the configuration.
type key struct {
	// Path is the key's YAML path, such as runbooks.sync_interval.
	Path string
	// Env is the variable that sets it.
	Env string
	// Default is the value a key left unset takes, as text; "" for none.
	Default string
	v       reflect.Value
}

// keys lists the scalar keys of c, in the order of the fields.
func keys(c *Config) []key {
	var out []key
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			path := prefix + name
			fv := v.Field(i)
			if f.Type.Kind() == reflect.Struct && f.Type != durationType {
				walk(fv, path+".")
				continue
			}
			if !scalar(f.Type) {
				continue
			}
			out = append(out, key{Path: path, Env: "BREADCRUMB_" + strings.ToUpper(strings.ReplaceAll(path, ".", "_")),
				Default: f.Tag.Get("default"), v: fv})
		}
	}
	walk(reflect.ValueOf(c).Elem(), "")
	return out
}

var durationType = reflect.TypeFor[duration]()

// scalar reports whether a field of type t is a key of its own.
func scalar(t reflect.Type) bool {
	switch {
	case t == durationType:
		return true
	case t.Kind() == reflect.Pointer:
		return t.Elem().Kind() == reflect.Bool
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int:
		return true
	}
	return false
}

// unset reports whether the key holds its zero value.
func (k key) unset() bool { return k.v.IsZero() }

// set parses text into the key, saying what was expected when it cannot.
func (k key) set(text string) error {
	switch {
	case k.v.Type() == durationType:
		d, err := parseDuration(text)
		if err != nil {
			return err
		}
		k.v.SetInt(int64(d))
		return nil
	case k.v.Kind() == reflect.Pointer:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return fmt.Errorf("%q is not true or false", text)
		}
		k.v.Set(reflect.ValueOf(&b))
		return nil
	}
	switch k.v.Kind() {
	case reflect.String:
		k.v.SetString(text)
	case reflect.Bool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return fmt.Errorf("%q is not true or false", text)
		}
		k.v.SetBool(b)
	case reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(text))
		if err != nil {
			return fmt.Errorf("%q is not a whole number", text)
		}
		k.v.SetInt(int64(n))
	}
	return nil
}

// applyEnv lets each key's variable, when set, override the file.
func (c *Config) applyEnv(getenv func(string) string) error {
	for _, k := range keys(c) {
		if v := getenv(k.Env); v != "" {
			if err := k.set(v); err != nil {
				return fmt.Errorf("%s: %w", k.Env, err)
			}
		}
	}
	return nil
}

// applyDefaults gives each key still unset its default.
func (c *Config) applyDefaults() {
	for _, k := range keys(c) {
		if k.Default != "" && k.unset() {
			if err := k.set(k.Default); err != nil {
				panic(fmt.Sprintf("the default of %s, %q: %v", k.Path, k.Default, err)) // a mistake in Config's tags
			}
		}
	}
}
