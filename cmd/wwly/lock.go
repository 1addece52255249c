package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newLockCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "lock",
		Short: "lock (not yet implemented)",

		RunE: func(cmd *cobra.Command, args []string) error { return errors.New("lock: not yet implemented") },
	}
}
