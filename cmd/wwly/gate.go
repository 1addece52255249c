package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newGateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "gate",
		Short: "gate (not yet implemented)",

		RunE: func(cmd *cobra.Command, args []string) error { return errors.New("gate: not yet implemented") },
	}
}
