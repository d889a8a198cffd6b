package dms_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/dms"
)

// dmsConfirming is the real fence on the real source, with DMS's part
// played by the test: right after the freeze, when confirms, the
// forward task's slot confirms the freeze's position, as DMS's heartbeat
// makes it do within a minute.
type dmsConfirming struct {
	dms.PostgresFence
	t        *testing.T
	d        *fenceDB
	confirms bool
}

func (c dmsConfirming) Freeze(ctx context.Context) (string, error) {
	pos, err := c.PostgresFence.Freeze(ctx)
	if err == nil && c.confirms {
		c.d.exec(c.t, c.d.dms, "INSERT INTO heartbeat VALUES (-100, now()) ON CONFLICT (id) DO UPDATE SET at = now()") // WAL up to pos is flushed
		c.d.exec(c.t, c.d.dms, fmt.Sprintf("SELECT pg_replication_slot_advance('dms_slot', %s)", sqlLiteral(pos)))
	}
	return pos, err
}

// TestSwitchToReverseOnPostgres runs the database switch end to end with
// the real fence on a real PostgreSQL source and the simulated DMS tasks:
// when DMS confirms the freeze, the forward task stops, the reverse one
// runs, and the source stays frozen for the applications but writable
// for DMS; when DMS never confirms, the switch gives up after
// DrainTimeout, thaws the source — the applications write again — and
// leaves the forward task running.
func TestSwitchToReverseOnPostgres(t *testing.T) {
	d := startFenceDB(t)
	for _, tc := range []struct {
		name     string
		confirms bool
	}{
		{"DMS confirms the freeze", true},
		{"DMS never confirms", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			out := f.apply(f.spec())
			api := f.cloud.DMS()
			require.NoError(t, dms.Start(f.ctx, f.env, api, out.Forward.ARN))
			f.cloud.Clock().Advance(time.Hour)
			fence := dmsConfirming{PostgresFence: d.fence("monolith", "dms_slot"), t: t, d: d, confirms: tc.confirms}
			start := f.cloud.Clock().Now()

			err := dms.SwitchToReverse(f.ctx, f.env, api, fence, out.Forward.ARN, out.Reverse.ARN)

			fwd, err2 := dms.TaskStatus(f.ctx, api, out.Forward.ARN)
			require.NoError(t, err2)
			rev, err2 := dms.TaskStatus(f.ctx, api, out.Reverse.ARN)
			require.NoError(t, err2)
			frozen, err2 := fence.Frozen(f.ctx)
			require.NoError(t, err2)
			if tc.confirms {
				require.NoError(t, err)
				assert.Equal(t, []string{"stopped", "running"}, []string{fwd, rev})
				assert.True(t, frozen, "the source stays frozen: the reverse task is its only writer")
				assert.Equal(t, "25006", d.try(t, "app", "INSERT INTO orders VALUES ($row, 'after the switch')"))
				assert.Equal(t, "", d.try(t, "dms", "INSERT INTO orders VALUES ($row, 'from AWS')"), "the reverse task applies")
				require.NoError(t, fence.Thaw(f.ctx)) // for the next case
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "not confirm")
			assert.GreaterOrEqual(t, f.cloud.Clock().Now().Sub(start), dms.DrainTimeout, "it waited out the drain timeout")
			assert.Equal(t, "running", fwd, "nothing switched")
			assert.NotEqual(t, "running", rev)
			assert.False(t, frozen, "thawed")
			assert.Equal(t, "", d.try(t, "app", "INSERT INTO orders VALUES ($row, 'still on-premises')"), "the applications write again")
			assert.Empty(t, d.readOnlySettings(t))
		})
	}
}
