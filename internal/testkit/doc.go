// Package testkit holds what the tests of several packages share: a log buffer many
// goroutines write to, and a clock tests move on.
package testkit
