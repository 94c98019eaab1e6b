package server

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/berth-dev/berth/internal/store/etcd"
)

// openEtcd connects to the configured etcd endpoints and opens the etcd
// store under the configured key prefix.
func (m *Main) openEtcd(ctx context.Context) error {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   m.cfg.EtcdEndpoints,
		DialTimeout: 5 * time.Second,
	})
	if err != nil {
		return fmt.Errorf("server: etcd client: %w", err)
	}
	m.etcdCli = cli
	s, err := etcd.New(ctx, cli, m.cfg.EtcdPrefix, etcd.Options{})
	if err != nil {
		return fmt.Errorf("server: open etcd store: %w", err)
	}
	m.store = s
	return nil
}
