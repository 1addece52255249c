//go:build !wwlylean

package bench

// peerBackends are the network-lock peers; see backends.
var peerBackends = []Backend{redsyncBackend{}, redislockBackend{}, etcdBackend{}, etcd3Backend{},
	redisPubSubBackend{}, etcdWatchBackend{}}
