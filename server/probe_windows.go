package server

import (
	"fmt"

	"github.com/panjf2000/gnet/v2"
)

// probeBind: the server does not run on Windows (see ErrUnsupportedOS).
func probeBind(addr string) (string, error) {
	return "", fmt.Errorf("probe %s: %w", addr, ErrUnsupportedOS)
}

// boundAddr: the server does not run on Windows (see ErrUnsupportedOS).
func boundAddr(_ gnet.Engine, addr string) (string, error) {
	return "", fmt.Errorf("listener %s: %w", addr, ErrUnsupportedOS)
}
