package evaluation

import (
	_ "embed"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
)

// SamePeople lists origins that show the same person: each entry is a set of
// substrings of origin keys (see Origins), and every item with an origin
// matching any of them joins one group. It covers people who appear in
// several unrelated sources, which the source column cannot reveal.
type SamePeople [][]string

//go:embed people.txt
var defaultPeople string

// DefaultSamePeople returns the list for the dev corpus, from the people
// listed in its README's caveats (embedded from evaluation/people.txt).
func DefaultSamePeople() SamePeople {
	p, _ := ParseSamePeople(defaultPeople) // checked by TestDefaultSamePeople
	return p
}

// ParseSamePeople parses the people file format: one person per line, the
// origin substrings separated by "|"; blank lines and lines starting with
// "#" are ignored.
func ParseSamePeople(text string) (SamePeople, error) {
	var out SamePeople
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var set []string
		for _, p := range strings.Split(line, "|") {
			if p = strings.TrimSpace(p); p != "" {
				set = append(set, p)
			}
		}
		if len(set) < 2 {
			return nil, fmt.Errorf("%w: people line %d needs at least two origins", ErrManifest, n+1)
		}
		out = append(out, set)
	}
	return out, nil
}

var (
	// owner/repo@commit:path up to ";", " (" or the end.
	repoRef = regexp.MustCompile(`([\w.-]+/[\w.-]+)@[0-9a-f]{7,40}:([^;(]+?)\s*(?:;|\(|$)`)
	// Inputs that are not repository files, e.g. "input: debian:pkg:path".
	inputRef = regexp.MustCompile(`(?:^|;\s*)(?:input|dub audio):\s*([^;(]+?)\s*(?:;|\(|$)`)
	// FaceForensics++ layout: …/original_sequences/… or …/manipulate/…, files
	// named after the source video ids, "ID.mp4" (an original) or
	// "TARGET_SOURCE.mp4" (a manipulation of TARGET with SOURCE's face).
	ffppDir  = regexp.MustCompile(`(?:^|/)(?:original|manipulated?)(?:_sequences)?/`)
	ffppFile = regexp.MustCompile(`^(\d+)(?:_(\d+))?\.\w+$`)
	// A generating tool and its voice, for synthetic speech with no input
	// recording: "espeak-ng -v en-us", "flite -voice awb".
	toolVoice = regexp.MustCompile(`generated:\s*(\S+)\s+-{1,2}v(?:oice)?\s+(\S+)`)
)

// Origins returns the keys of the original recordings behind an item's
// source: "owner/repo:path" for repository files (the commit dropped, so that
// every item derived from one clip shares the key), "ffpp:ID" for each
// FaceForensics++ video id, the input as written for other inputs, and
// "tool:NAME:VOICE" for synthetic speech made from text only. Items of the
// manifest referenced by path inside the source (e.g. a donor video) are
// returned in refs.
func Origins(source string, manifestPaths map[string]bool, self string) (keys, refs []string) {
	seen := map[string]bool{}
	add := func(k string) {
		k = strings.TrimSpace(k)
		if k != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, m := range repoRef.FindAllStringSubmatch(source, -1) {
		repo, p := m[1], strings.TrimSpace(m[2])
		if ffppDir.MatchString(p) {
			if f := ffppFile.FindStringSubmatch(path.Base(p)); f != nil {
				add("ffpp:" + f[1])
				if f[2] != "" {
					add("ffpp:" + f[2])
				}
				continue
			}
		}
		add(repo + ":" + p)
	}
	for _, m := range inputRef.FindAllStringSubmatch(source, -1) {
		in := strings.TrimSpace(m[1])
		if strings.HasPrefix(in, "text:") || repoRef.MatchString(in+";") {
			continue
		}
		add(in)
	}
	if len(keys) == 0 && !strings.HasPrefix(source, "generated") {
		// An untouched or converted copy of a non-repository file.
		first, _, _ := strings.Cut(source, ";")
		first, _, _ = strings.Cut(first, " (")
		add(first)
	}
	if len(keys) == 0 {
		if m := toolVoice.FindStringSubmatch(source); m != nil {
			add("tool:" + path.Base(m[1]) + ":" + m[2])
		}
	}
	for _, tok := range strings.Fields(source) {
		tok = strings.Trim(tok, `"',;`)
		if tok != self && manifestPaths[tok] {
			refs = append(refs, tok)
		}
	}
	return keys, refs
}

// Groups assigns every item a group id so that items sharing an original
// recording, referencing each other, or showing a person listed in people
// get the same id (union-find, merged transitively). Ids are 0…n−1 in order
// of first appearance. An item with no recognisable origin is its own group.
func Groups(items []Item, people SamePeople) []int {
	parent := make([]int, len(items))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	union := func(a, b int) {
		ra, rb := find(a), find(b)
		if ra != rb {
			if ra < rb {
				parent[rb] = ra
			} else {
				parent[ra] = rb
			}
		}
	}
	paths := map[string]bool{}
	byPath := map[string]int{}
	for i, it := range items {
		paths[it.Rel] = true
		byPath[it.Rel] = i
	}
	byKey := map[string]int{}
	var allKeys []string
	keysOf := make([][]string, len(items))
	for i, it := range items {
		keys, refs := Origins(it.Source, paths, it.Rel)
		keysOf[i] = keys
		for _, k := range keys {
			if j, ok := byKey[k]; ok {
				union(i, j)
			} else {
				byKey[k] = i
				allKeys = append(allKeys, k)
			}
		}
		for _, r := range refs {
			union(i, byPath[r])
		}
	}
	sort.Strings(allKeys)
	for _, person := range people {
		first := -1
		for _, k := range allKeys {
			for _, sub := range person {
				if strings.Contains(k, sub) {
					if first < 0 {
						first = byKey[k]
					} else {
						union(first, byKey[k])
					}
					break
				}
			}
		}
	}
	ids := map[int]int{}
	out := make([]int, len(items))
	for i := range items {
		r := find(i)
		id, ok := ids[r]
		if !ok {
			id = len(ids)
			ids[r] = id
		}
		out[i] = id
	}
	return out
}
