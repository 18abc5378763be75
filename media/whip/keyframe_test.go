package whip

import "testing"

func TestH264Keyframes(t *testing.T) {
	nal := func(types ...byte) []byte {
		var au []byte
		for _, ty := range types {
			au = append(au, 0, 0, 0, 1, 0x60|ty, 0xaa, 0xbb)
		}
		return au
	}
	tests := []struct {
		name          string
		au            []byte
		key, startsOn bool
	}{
		{"SPS, PPS and IDR", nal(7, 8, 5), true, true},
		{"IDR alone", nal(5), true, false},
		{"SPS without PPS", nal(7, 5), true, false},
		{"non-IDR slice", nal(1), false, false},
		{"three-byte start codes", []byte{0, 0, 1, 0x67, 1, 0, 0, 1, 0x68, 2, 0, 0, 1, 0x65, 3}, true, true},
		{"empty", nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h264Keyframe(tt.au); got != tt.key {
				t.Errorf("h264Keyframe = %v, want %v", got, tt.key)
			}
			if got := h264ParameterSets(tt.au); got != tt.startsOn {
				t.Errorf("h264ParameterSets = %v, want %v", got, tt.startsOn)
			}
		})
	}
}
