package detectors

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// findingValue returns the measurement called name of f, failing when f
// is nil or has no such measurement.
func findingValue(t testing.TB, f *Finding, name string) float64 {
	t.Helper()
	require.NotNil(t, f)
	for _, m := range f.Values {
		if m.Name == name {
			return m.Value
		}
	}
	t.Fatalf("%s has no value %q", f.Signal, name)
	return 0
}

// summaryValue returns the summary measurement called name of r, failing
// when r was not measured or has no such measurement.
func summaryValue(t testing.TB, r Result, name string) float64 {
	t.Helper()
	require.NotNil(t, r.Summary, "not measured: %s", r.NotMeasurable)
	return findingValue(t, r.Summary, name)
}
