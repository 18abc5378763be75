package report_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/models"
	"github.com/bonafide-dev/bonafide/report"
)

func TestModelValidation(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		name    string
		cv      *models.CVMetrics
		wantNil bool
		missed  *float64
		want    string
	}{
		{name: "no figures (rule model)", cv: nil, wantNil: true},
		{name: "no overall row", cv: &models.CVMetrics{Groups: map[string]models.CVGroup{"video": {N: 3}}}, wantNil: true},
		{name: "every rate", cv: &models.CVMetrics{Groups: map[string]models.CVGroup{"overall": {N: 184, AUC: f(0.655),
			FPRAtManipulated: f(0.011), RecallAtManipulated: f(0.1935), RecallAtInconclusive: f(0.4946)}}},
			missed: f(0.5054),
			want: `A screening aid, not proof. In cross-validation on 184 labelled recordings (each scored by a model that had not seen its source), ` +
				`it called 19 % of the manipulated ones "manipulated" and 1.1 % of the genuine ones, and let 51 % of the manipulated ones through as "genuine". ` +
				`"Genuine" means nothing suspicious was found, not that the recording is verified.`},
		{name: "an older weights file without the genuine rate", cv: &models.CVMetrics{Groups: map[string]models.CVGroup{"overall": {N: 10,
			FPRAtManipulated: f(0), RecallAtManipulated: f(0.5)}}},
			want: `A screening aid, not proof. In cross-validation on 10 labelled recordings (each scored by a model that had not seen its source), ` +
				`it called 50 % of the manipulated ones "manipulated" and none of the genuine ones (which does not mean it never raises a false alarm). ` +
				`"Genuine" means nothing suspicious was found, not that the recording is verified.`},
		{name: "rates undefined", cv: &models.CVMetrics{Groups: map[string]models.CVGroup{"overall": {N: 4}}},
			want: "A screening aid, not proof."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := report.NewModelValidation(tc.cv)
			if tc.wantNil {
				require.Nil(t, v)
				return
			}
			require.NotNil(t, v)
			assert.Equal(t, tc.want, v.Statement)
			if tc.missed == nil {
				assert.Nil(t, v.ManipulatedCalledGenuine)
			} else {
				require.NotNil(t, v.ManipulatedCalledGenuine)
				assert.Equal(t, *tc.missed, *v.ManipulatedCalledGenuine, "rounded as the rates it derives from")
			}
		})
	}
}
