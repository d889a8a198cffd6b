package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/internal/fakecloud"
)

// testApp returns an app on a fresh simulated cloud with the default spec.
// With scale 0 the clock skips ahead (no real time passes) and no
// background alarm loop runs; with a scale the whole simulated world runs,
// as in the demo.
func testApp(t *testing.T, scale float64) (*app, *fakecloud.Cloud, *bytes.Buffer) {
	t.Helper()
	out := &bytes.Buffer{}
	a := &app{stdout: out, stderr: out, output: "text"}
	require.NoError(t, a.load())
	clock := fakecloud.NewClock(fakecloud.Epoch)
	if scale > 0 {
		clock = fakecloud.NewScaledClock(fakecloud.Epoch, scale)
	}
	cloud := fakecloud.New(fakecloud.WithClock(clock))
	if scale > 0 {
		require.NoError(t, a.useSim(context.Background(), cloud))
		t.Cleanup(a.world.stop)
	} else {
		world := newSimWorld(a.spec, cloud)
		a.use(simClients(cloud), world)
		require.NoError(t, world.onPremises(context.Background(), a.env(nil)))
	}
	return a, cloud, out
}
