//go:build !nofastpath

package sip

// fastPath turns fastChallenge on; the nofastpath build tag turns it off, for
// bench/sip.sh's comparison binary only.
const fastPath = true
