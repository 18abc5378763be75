package whip

// vp8Keyframe reports whether a VP8 frame is a key frame (RFC 6386 9.1:
// the frame tag's lowest bit is 0 for key frames).
func vp8Keyframe(frame []byte) bool { return len(frame) > 0 && frame[0]&1 == 0 }

// vp9Keyframe reads the uncompressed header of a VP9 frame (VP9 spec 6.2):
// frame_marker(2) profile_low(1) profile_high(1) [reserved(1) if profile 3]
// show_existing_frame(1) frame_type(1, 0 = key frame).
func vp9Keyframe(frame []byte) bool {
	if len(frame) == 0 {
		return false
	}
	b := frame[0]
	bit := func(i int) byte { return (b >> (7 - i)) & 1 } // i-th bit from the top
	if bit(0) != 1 || bit(1) != 0 {
		return false
	}
	profile := bit(2) | bit(3)<<1
	i := 4
	if profile == 3 {
		i++
	}
	if bit(i) == 1 { // show_existing_frame
		return false
	}
	return bit(i+1) == 0
}

// h264Keyframe reports whether an Annex-B access unit holds an IDR slice
// or a sequence parameter set.
func h264Keyframe(au []byte) bool {
	for i := 0; i+3 < len(au); i++ {
		if au[i] == 0 && au[i+1] == 0 && au[i+2] == 1 {
			switch au[i+3] & 0x1f {
			case 5, 7:
				return true
			}
			i += 2
		}
	}
	return false
}

// h264ParameterSets reports whether an Annex-B access unit carries a
// sequence and a picture parameter set: a new decoder can start on it
// (an IDR alone needs the parameter sets sent before it). Browsers repeat
// them with every IDR.
func h264ParameterSets(au []byte) bool {
	var sps, pps bool
	for i := 0; i+3 < len(au); i++ {
		if au[i] == 0 && au[i+1] == 0 && au[i+2] == 1 {
			switch au[i+3] & 0x1f {
			case 7:
				sps = true
			case 8:
				pps = true
			}
			i += 2
		}
	}
	return sps && pps
}
