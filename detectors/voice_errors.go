package detectors

import "errors"

// Sentinel errors of the voice analysis (pitch tracker, formant analysis and
// the voice detectors built on them). Check them with errors.Is.
var (
	// ErrPitchConfig means a PitchConfig is inconsistent (e.g. MinF0 ≥ MaxF0,
	// or a frequency range the sample rate cannot carry).
	ErrPitchConfig = errors.New("invalid pitch tracker configuration")
	// ErrVoiceRate means audio arrived at a sample rate the voice analysis
	// was not built for.
	ErrVoiceRate = errors.New("unexpected sample rate for voice analysis")
)
