//go:build wwly_nostats

package server

import (
	"github.com/wwly/wwly/wire"
)

// Empty twins of stats_count.go, for measuring what counting costs
// (go test -tags wwly_nostats). Stats then reports gauges only, every counter zero.

func (l *loop) noteEngine(*shard, *request, int64) {}
func (l *loop) noteError(wire.Code)                {}
func (l *loop) noteCut(int)                        {}
func (l *loop) noteAccept()                        {}
func (l *loop) noteSessionClosed()                 {}
