package server

import (
	"context"
	"errors"
)

func (m *Main) openEtcd(ctx context.Context) error {
	return errors.New("server: etcd store not wired yet")
}
