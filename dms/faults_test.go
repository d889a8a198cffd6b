package dms_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

// Throttling on every service and every new resource invisible to its
// first reads: the SDK retryer absorbs the first, the Ensure functions
// the second; the result is the same converged stack.
func TestStackConvergesUnderFaults(t *testing.T) {
	f := newFixture(t)
	f.cloud.SetFaults(fakecloud.Faults{ThrottleRate: 0.3, NotFoundReads: 2})
	out := f.apply(f.spec())
	f.cloud.SetFaults(fakecloud.Faults{})
	throttled, hidden := 0, 0
	for _, c := range f.cloud.Calls() {
		switch c.Code {
		case "ThrottlingException", "Throttling":
			throttled++
		case "ResourceNotFoundFault", "DBInstanceNotFound", "DBParameterGroupNotFound", "ResourceNotFoundException", "NoSuchEntity":
			hidden++
		}
	}
	assert.Positive(t, throttled, "throttling fired")
	assert.Positive(t, hidden, "NotFound-after-create fired")
	assert.Equal(t, "ready", f.cloud.DMS().TaskStatus("dms-task-forward-dev"))
	assert.Len(t, out.Endpoints, 4)

	// Resources created late in the faulty run may still be invisible to
	// their next reads (the fake counts them down); once they are visible,
	// apply is a no-op without a write.
	for range 2 {
		f.apply(f.spec())
	}
	f.reset()
	f.apply(f.spec())
	assert.False(t, f.report.HasChanges(), "%v", f.report.Changes())
	assert.Empty(t, f.cloud.Writes())
	res := f.cloud.DMS().Resources()
	assert.Len(t, res["endpoint"], 4, "no duplicate")
	assert.Len(t, f.cloud.SecretsManager().Secrets(), 3, "source, RDS master, endpoint copy")
}

// A crash after any write — the write took effect, its response was lost
// and the process died — leaves nothing a second apply cannot finish:
// it converges with no duplicate and a third apply changes nothing.
func TestStackRecoversFromACrashAtEveryWrite(t *testing.T) {
	clean := newFixture(t)
	clean.apply(clean.spec())
	n := len(clean.cloud.Writes())
	require.Greater(t, n, 20)
	crashed := 0
	for k := 1; k <= n; k++ {
		f := newFixture(t)
		f.cloud.SetFaults(fakecloud.Faults{CrashAtWrite: k, CrashAfter: k%2 == 0})
		rb, _ := f.stack(f.spec())
		err := rb.Apply(f.ctx, f.env)
		if !f.cloud.Crashed() { // parallel steps: this run made fewer writes
			require.NoError(t, err)
			continue
		}
		crashed++
		require.Error(t, err, "crash at write %d", k)
		f.cloud.Restart()
		rb, out := f.stack(f.spec())
		require.NoError(t, rb.Apply(f.ctx, f.env), "apply after a crash at write %d", k)
		res := f.cloud.DMS().Resources()
		assert.Len(t, res["endpoint"], 4, "crash at write %d", k)
		assert.Len(t, res["task"], 2, "crash at write %d", k)
		assert.Len(t, res["instance"], 1)
		assert.Len(t, f.cloud.RDS().DBInstances(), 1)
		assert.Equal(t, "ready", f.cloud.DMS().TaskStatus("dms-task-reverse-dev"))
		assert.NotEmpty(t, out.TargetSecret.ARN)
		f.reset()
		require.NoError(t, rb.Apply(f.ctx, f.env))
		assert.False(t, f.report.HasChanges(), "crash at write %d: %v", k, f.report.Changes())
		assert.Equal(t, 0, f.report.Counts()[migration.ActionCreate])
	}
	assert.Greater(t, crashed, n-5, "nearly every write was crashed at")
}
