package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newServeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "serve (not yet implemented)",

		RunE: func(cmd *cobra.Command, args []string) error { return errors.New("serve: not yet implemented") },
	}
}
