// Package media turns any input that ffmpeg can read into timestamped video
// frames and mono PCM audio for analysis. It never decodes by itself: it runs
// ffprobe and ffmpeg as child processes, streams their output through pipes,
// and always reaps them (on success, on error and on context cancellation).
package media

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers check them with errors.Is; every error returned by
// this package that is caused by the input (not by the machine) wraps
// ErrUnusableInput, so a caller can map all of them to one exit code or HTTP
// status.
var (
	// ErrUnusableInput is wrapped by every input-caused error below.
	ErrUnusableInput = errors.New("unusable input")

	ErrNotFound    = unusable("file not found")
	ErrIsDirectory = unusable("path is a directory, not a media file")
	ErrEmpty       = unusable("file is empty (0 bytes)")
	ErrNotMedia    = unusable("not a media file ffmpeg can read")
	ErrNoStreams   = unusable("file has neither a video nor an audio stream")
	// ErrStillImage is a picture (PNG, JPEG, …), not a recording; it wraps
	// ErrNotMedia.
	ErrStillImage = fmt.Errorf("%w: a still image", ErrNotMedia)

	// ErrNoVideo and ErrNoAudio are returned when a reader is opened for a
	// stream the input does not have.
	ErrNoVideo = errors.New("input has no video stream")
	ErrNoAudio = errors.New("input has no audio stream")

	// ErrToolMissing means ffmpeg or ffprobe is not installed.
	ErrToolMissing = errors.New("ffmpeg/ffprobe not found (install the ffmpeg package)")
)

type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }
func (e *inputError) Unwrap() error { return ErrUnusableInput }

func unusable(msg string) error { return &inputError{msg: msg} }

// NewInputError returns an error with text msg that wraps ErrUnusableInput
// without repeating its words, for callers outside this package that find
// an input unusable.
func NewInputError(msg string) error { return unusable(msg) }
