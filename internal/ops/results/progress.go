package results

import (
	"fmt"
	"io"
	"os"
)

// progress reports a count of a total: on a terminal as one line updated in place, elsewhere (a log, a pipe)
// as one line per update.
type progress struct {
	w        io.Writer
	terminal bool
	label    string
	open     bool // a terminal line is being updated in place
}

func newProgress(w io.Writer, label string) *progress {
	return &progress{w: w, terminal: isTerminal(w), label: label}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// update shows n of total.
func (p *progress) update(n, total int) {
	if p.terminal {
		fmt.Fprintf(p.w, "\r\033[K%s: %d/%d", p.label, n, total) // \033[K: clear what a longer line left
		p.open = true
		return
	}
	fmt.Fprintf(p.w, "%s: %d/%d\n", p.label, n, total)
}

// done ends the terminal line, if one is open.
func (p *progress) done() {
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
}
