// Package atomicfile writes a file so that a reader sees the old content or the
// new, never a part: a temporary file in the same directory is filled, synced,
// closed and renamed over the name (rename(2) is atomic within a file system),
// then the directory is synced so the rename itself survives a crash.
//
// Template overrides, the store's secrets file, firmware images and backups are
// written this way. WriteChecked reads the synced content back through a check
// before the rename: a backup that does not verify never takes the final name.
package atomicfile
