package report_test

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/report"
)

// Every JSON field of the report types is documented in
// docs/report-schema.md, so the document stays true.
func TestSchemaDocumented(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	doc, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "docs", "report-schema.md"))
	require.NoError(t, err)
	require.Contains(t, string(doc), report.Schema)
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(tp reflect.Type) {
		for tp.Kind() == reflect.Pointer || tp.Kind() == reflect.Slice || tp.Kind() == reflect.Map {
			tp = tp.Elem()
		}
		if tp.Kind() != reflect.Struct || seen[tp] {
			return
		}
		seen[tp] = true
		for i := 0; i < tp.NumField(); i++ {
			f := tp.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			require.Contains(t, string(doc), "`"+name+"`", "field %s.%s is not documented", tp.Name(), f.Name)
			walk(f.Type)
		}
	}
	walk(reflect.TypeOf(report.Report{}))
}
