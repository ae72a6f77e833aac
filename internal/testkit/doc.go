// Package testkit holds what the tests of several packages share: a log buffer many
// goroutines write to, a clock tests move on, and Eventually: wait on a condition with
// a deadline (tests never sleep a fixed time).
package testkit
