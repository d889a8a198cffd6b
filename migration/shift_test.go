package migration_test

import (
	"context"
	"testing"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

// scriptedRouter answers each Shift with the next of its results and
// counts the calls.
type scriptedRouter struct {
	results []migration.Shifted
	errs    []error
	calls   int
}

func (r *scriptedRouter) Shift(_ context.Context, to migration.Split) (migration.Shifted, error) {
	i := r.calls
	r.calls++
	if i < len(r.errs) && r.errs[i] != nil {
		return migration.Shifted{}, r.errs[i]
	}
	if i < len(r.results) {
		return r.results[i], nil
	}
	return migration.Shifted{Split: to, ChangeID: "C1"}, nil
}

func TestShiftTo(t *testing.T) {
	busy := &smithy.GenericAPIError{Code: "PriorRequestNotComplete", Message: "still processing"}
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}
	to := migration.GreenPercent(25)
	tests := []struct {
		name      string
		router    *scriptedRouter
		wantCalls int
		wantErr   string
	}{
		{"applied at once", &scriptedRouter{}, 1, ""},
		{"busy zone retried", &scriptedRouter{errs: []error{busy, busy}}, 3, ""},
		{"other errors are not retried", &scriptedRouter{errs: []error{denied}}, 1, "AccessDenied"},
		{"busy for good gives up", &scriptedRouter{errs: []error{busy, busy, busy, busy, busy, busy, busy, busy, busy}}, 8, "PriorRequestNotComplete"},
		{"misapplied split refused", &scriptedRouter{results: []migration.Shifted{{Split: migration.GreenPercent(50), ChangeID: "C9"}}}, 1,
			"the router applied blue 50 / green 50, not blue 75 / green 25 (change C9)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := fakecloud.NewClock(fakecloud.Epoch)
			env := migration.Env{Suffix: "dev", Region: "us-east-1", Account: "123456789012", Clock: clock}
			got, err := migration.ShiftTo(context.Background(), env, tt.router, to)
			assert.Equal(t, tt.wantCalls, tt.router.calls)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, migration.Shifted{Split: to, ChangeID: "C1"}, got)
			if tt.router.calls > 1 {
				assert.True(t, clock.Now().After(fakecloud.Epoch), "the retries waited on the env clock")
			}
		})
	}
}
