//go:build wwlylean && !wwlyredis

package bench

// peerBackends is empty in a lean worker build; see backends.
var peerBackends []Backend
