package server

import (
	"fmt"
	"os"
)

// flockTry: the server does not run on Windows (see ErrUnsupportedOS).
func flockTry(*os.File) error { return fmt.Errorf("data dir lock: %w", ErrUnsupportedOS) }

func flockRelease(*os.File) {}
