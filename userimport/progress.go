package userimport

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// ProgressBar gives a Progress function that draws one line, rewritten in place with \r:
//
//	importing [##########----------]  50%  5000/10000 rows
//
// It redraws only when the percentage changes and ends the line when done reaches total.
// When w is a file that is not a terminal (a pipe, a log file) it writes only the final
// line, so logs do not fill with carriage returns.
func ProgressBar(w io.Writer) func(done, total int) {
	const width = 30
	interactive := true
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
			interactive = false
		}
	}
	last, finished := -1, false
	return func(done, total int) {
		if total <= 0 {
			return
		}
		done = min(max(done, 0), total)
		pct := done * 100 / total
		if done < total {
			finished = false // a retried transaction starts again
		}
		if pct == last && done < total || finished {
			return
		}
		last = pct
		if !interactive && done < total {
			return
		}
		fill := done * width / total
		fmt.Fprintf(w, "\rimport [%s%s] %3d%%  %d/%d rows", strings.Repeat("#", fill),
			strings.Repeat("-", width-fill), pct, done, total)
		if done == total {
			finished = true
			fmt.Fprintln(w)
		}
	}
}
