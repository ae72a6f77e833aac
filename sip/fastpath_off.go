//go:build nofastpath

package sip

// fastPath is off in a build with the nofastpath tag (bench/sip.sh's comparison
// binary): every message goes through sipgo's parser.
const fastPath = false
