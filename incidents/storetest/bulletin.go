package storetest

import (
	"errors"
	"testing"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/replica"
)

// RunBulletinTests runs the suite of replica.Bulletin against the
// bulletins that open returns. Each subtest calls open once and expects a
// fresh bulletin on which nothing was published; open registers its
// cleanup with t.Cleanup.
func RunBulletinTests(t *testing.T, open func(t *testing.T) replica.Bulletin) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, b replica.Bulletin)
	}{
		{"a published value is read back", testBulletinPublishRead},
		{"a second publish replaces the first", testBulletinOverwrite},
		{"a key never published is missing", testBulletinMissing},
		{"an empty value is published, not missing", testBulletinEmptyValue},
		{"keys are held apart", testBulletinKeys},
		{"an empty key is invalid", testBulletinInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, open(t))
		})
	}
}

func publish(t *testing.T, b replica.Bulletin, key, value string) {
	t.Helper()
	if err := b.Publish(t.Context(), key, value); err != nil {
		t.Fatalf("Publish(%q, %q) = %v", key, value, err)
	}
}

func checkRead(t *testing.T, b replica.Bulletin, key, want string, wantOK bool) {
	t.Helper()
	got, ok, err := b.Read(t.Context(), key)
	if err != nil {
		t.Fatalf("Read(%q) = %v", key, err)
	}
	if got != want || ok != wantOK {
		t.Errorf("Read(%q) = %q, %v, want %q, %v", key, got, ok, want, wantOK)
	}
}

func testBulletinPublishRead(t *testing.T, b replica.Bulletin) {
	publish(t, b, "runbooks:rev:payments", "3f2a9c")
	checkRead(t, b, "runbooks:rev:payments", "3f2a9c", true)
	checkRead(t, b, "runbooks:rev:payments", "3f2a9c", true)
}

func testBulletinOverwrite(t *testing.T, b replica.Bulletin) {
	publish(t, b, "rev", "first")
	publish(t, b, "rev", "second")
	checkRead(t, b, "rev", "second", true)
	publish(t, b, "rev", "first")
	checkRead(t, b, "rev", "first", true)
}

func testBulletinMissing(t *testing.T, b replica.Bulletin) {
	checkRead(t, b, "rev", "", false)
	publish(t, b, "other", "x")
	checkRead(t, b, "rev", "", false)
}

func testBulletinEmptyValue(t *testing.T, b replica.Bulletin) {
	publish(t, b, "rev", "")
	checkRead(t, b, "rev", "", true)
	publish(t, b, "rev", "x")
	publish(t, b, "rev", "")
	checkRead(t, b, "rev", "", true)
}

func testBulletinKeys(t *testing.T, b replica.Bulletin) {
	values := map[string]string{
		"runbooks:rev:payments": "aaa",
		"runbooks:rev:platform": "bbb",
		"runbooks:rev:pay":      "ccc",
		"key with spaces/and ü": "ddd",
	}
	for k, v := range values {
		publish(t, b, k, v)
	}
	publish(t, b, "runbooks:rev:payments", "eee")
	values["runbooks:rev:payments"] = "eee"
	for k, v := range values {
		checkRead(t, b, k, v, true)
	}
}

func testBulletinInvalid(t *testing.T, b replica.Bulletin) {
	if err := b.Publish(t.Context(), "", "x"); !errors.Is(err, incidents.ErrInvalid) {
		t.Errorf("Publish with an empty key = %v, want ErrInvalid", err)
	}
	if _, _, err := b.Read(t.Context(), ""); !errors.Is(err, incidents.ErrInvalid) {
		t.Errorf("Read with an empty key = %v, want ErrInvalid", err)
	}
}
