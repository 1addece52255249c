package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newTuneCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "tune",
		Short: "tune (not yet implemented)",

		RunE: func(cmd *cobra.Command, args []string) error { return errors.New("tune: not yet implemented") },
	}
}
