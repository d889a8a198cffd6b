package tracking_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/tracking"
)

// newEnv returns an env on a fresh fake cloud with the env's KMS key,
// collecting changes in the returned report.
func newEnv(t *testing.T) (migration.Env, *fakecloud.Cloud, *migration.Report, string) {
	t.Helper()
	cloud := fakecloud.New()
	report := &migration.Report{}
	env := migration.Env{Suffix: "dev", Region: cloud.Region(), Account: cloud.Account(), Clock: cloud.Clock(), Reporter: report}
	key, err := migration.EnsureKey(context.Background(), env, cloud.KMS(), migration.KeySpec{})
	require.NoError(t, err)
	*report = migration.Report{}
	return env, cloud, report, key.ARN
}

// newStore returns an env with its table ensured and a Store on it.
func newStore(t *testing.T, opts tracking.StoreOptions) (*tracking.Store, migration.Env, *fakecloud.Cloud) {
	t.Helper()
	env, cloud, _, key := newEnv(t)
	_, err := tracking.EnsureTable(context.Background(), env, cloud.DynamoDB(), tracking.TableSpec{KMSKeyARN: key})
	require.NoError(t, err)
	s, err := tracking.NewStore(env, cloud.DynamoDB(), opts)
	require.NoError(t, err)
	return s, env, cloud
}

func actions(r *migration.Report) []migration.Action {
	var out []migration.Action
	for _, c := range r.Changes() {
		out = append(out, c.Action)
	}
	return out
}

func writeOps(cloud *fakecloud.Cloud) []string {
	var out []string
	for _, c := range cloud.Writes() {
		out = append(out, c.Op)
	}
	return out
}

// recorder is a Sink that keeps notifications, failing when err is set.
type recorder struct {
	mu  sync.Mutex
	got []migration.Notification
	err error
}

func (r *recorder) Notify(_ context.Context, m migration.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.got = append(r.got, m)
	return nil
}

func (r *recorder) all() []migration.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]migration.Notification(nil), r.got...)
}
