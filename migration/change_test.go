package migration_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/migration"
)

func TestReport(t *testing.T) {
	r := &migration.Report{}
	var wg sync.WaitGroup
	for _, c := range []migration.Change{
		{Kind: "vpc", Name: "vpc-dev", ID: "vpc-1", Action: migration.ActionNoop},
		{Kind: "subnet", Name: "subnet-b", ID: migration.Pending("subnet-b"), Action: migration.ActionCreate},
		{Kind: "kms-key", Name: "alias/migration-dev", ID: "k-1", Action: migration.ActionUpdate, Diff: []migration.FieldDiff{{Field: "rotation", From: "off", To: "on"}}},
		{Kind: "subnet", Name: "subnet-a", ID: migration.Pending("subnet-a"), Action: migration.ActionCreate, Note: "in us-east-1a"},
	} {
		wg.Add(1)
		go func() { defer wg.Done(); r.Report(c) }()
	}
	wg.Wait()

	assert.True(t, r.HasChanges())
	assert.Equal(t, "2 to create, 1 to update, 0 to delete, 1 unchanged.", r.Summary())
	var b strings.Builder
	require.NoError(t, r.WriteTable(&b))
	assert.Equal(t, `ACTION  KIND     NAME                 ID     DETAIL
create  subnet   subnet-a             (new)  in us-east-1a
create  subnet   subnet-b             (new)
update  kms-key  alias/migration-dev  k-1    rotation: off -> on
noop    vpc      vpc-dev              vpc-1
Plan: 2 to create, 1 to update, 0 to delete, 1 unchanged.
`, b.String())

	raw, err := json.Marshal(r)
	require.NoError(t, err)
	var decoded struct {
		Changes []migration.Change
		Summary map[string]int
	}
	require.NoError(t, json.Unmarshal(raw, &decoded))
	assert.Len(t, decoded.Changes, 4)
	assert.Equal(t, map[string]int{"create": 2, "update": 1, "delete": 0, "noop": 1}, decoded.Summary)

	empty := &migration.Report{}
	assert.False(t, empty.HasChanges())
}

func TestPending(t *testing.T) {
	id := migration.Pending("vpc-dev")
	assert.True(t, migration.IsPending(id))
	assert.False(t, migration.IsPending("vpc-0123"))
	assert.True(t, migration.AnyPending("vpc-1", id))
	assert.False(t, migration.AnyPending("vpc-1", "subnet-2"))
	assert.Equal(t, `create vpc "vpc-dev" cidr: 10.0.0.0/16`, migration.Change{Kind: "vpc", Name: "vpc-dev", ID: id, Action: migration.ActionCreate,
		Diff: []migration.FieldDiff{{Field: "cidr", To: "10.0.0.0/16"}}}.String(), "pending IDs are not shown")
}
