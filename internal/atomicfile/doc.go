// Package atomicfile writes a file so that a reader sees the old content or the
// new, never a part: a temporary file in the same directory is filled, synced,
// closed and renamed over the name (rename(2) is atomic within a file system),
// then the directory is synced so the rename itself survives a crash.
//
// Template overrides, the store's secrets file and firmware images are written
// this way.
package atomicfile
