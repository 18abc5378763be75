package evaluation

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/bonafide-dev/bonafide/models"
)

// compression is a kind's compression-level suffix (FaceForensics++ -c23,
// -c40).
var compression = regexp.MustCompile(`-c[0-9]+$`)

// Family returns the manipulation method of a kind, without its
// compression level, render size (sim-render-128/192), restoration
// variant (lipsync-wav2lip-gfpgan/hd) or option (changer-rubberband-formant,
// scripts/voicechangers.sh). UnseenKinds holds a family out
// whole, so that a method is never "unseen" while a variant of it trains.
func Family(kind string) string {
	kind = compression.ReplaceAllString(kind, "")
	for _, method := range []string{"sim-render", "lipsync-wav2lip", "changer-rubberband"} {
		if strings.HasPrefix(kind, method+"-") {
			return method
		}
	}
	return kind
}

// UnseenKinds estimates how the training recipe does on manipulations it
// has never seen, which is what a held-out set of other manipulation kinds
// asks: for each family of manipulated kinds in recs, it cross-validates
// by source as CrossValidated does, but with every item of the family (in
// recs and in extra) left out of every training set, and returns each of
// the family's kinds' rows (its items, scored out of fold, against all
// genuine items of the same file modality, themselves scored out of fold).
func UnseenKinds(recs, extra []Record, trainOnRecs bool, groups map[string]int, opt models.TrainOptions) (map[string]Row, []error) {
	families := map[string][]string{}
	seen := map[string]bool{}
	for _, r := range recs {
		k := r.Item.Kind
		if r.Item.Label == Manipulated && !seen[k] {
			seen[k] = true
			families[Family(k)] = append(families[Family(k)], k)
		}
	}
	names := make([]string, 0, len(families))
	for f := range families {
		names = append(names, f)
	}
	sort.Strings(names)
	out := map[string]Row{}
	var errs []error
	for _, fam := range names {
		samples := Samples(recs, groups)
		for i := range samples {
			samples[i].NoTrain = !trainOnRecs || Family(recs[i].Item.Kind) == fam
		}
		ex := Samples(extra, groups)
		for j, s := range ex {
			if Family(extra[j].Item.Kind) == fam {
				continue
			}
			s.NoScore = true
			samples = append(samples, s)
		}
		outs, ferrs := models.CrossValidate(samples, opt)
		for _, err := range ferrs {
			errs = append(errs, fmt.Errorf("%s unseen: %w", fam, err))
		}
		sc := make([]Scored, len(recs))
		for i, r := range recs {
			sc[i] = Scored{Record: r, Output: outs[i]}
		}
		res := Evaluate(sc, nil)
		for _, k := range families[fam] {
			out[k] = res.Kinds[k]
		}
	}
	return out, errs
}
