// Package testlog holds what tests use to read what a server logged while it runs:
// a bytes.Buffer that many goroutines may write to at once.
package testlog
