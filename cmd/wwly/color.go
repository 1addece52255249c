package main

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// colorEnabled reports whether ANSI colour may be written to w: only to a terminal, and never
// when NO_COLOR is set to a non-empty value (https://no-color.org) or TERM is "dumb". Pipes,
// files and CI logs get plain text.
func colorEnabled(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && isTerminal(int(f.Fd()))
}

// isTerminal reports whether fd is a terminal (it answers the terminal-attributes ioctl).
func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, ioctlReadTermios)
	return err == nil
}

// paint wraps s in the SGR attributes sgr (e.g. "1;31" for bold red) when w takes colour, and
// returns s unchanged otherwise.
func paint(w io.Writer, sgr, s string) string {
	if !colorEnabled(w) {
		return s
	}
	return "\x1b[" + sgr + "m" + s + "\x1b[0m"
}
