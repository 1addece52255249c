//go:build wwlylean && wwlyredis

package bench

// peerBackends of the Redis worker build (tags wwlylean,wwlyredis): the Redis peers only, so a
// redsync or redislock worker does not start etcd's gRPC client code; see backends.
var peerBackends = []Backend{redsyncBackend{}, redislockBackend{}, redisPubSubBackend{}}
