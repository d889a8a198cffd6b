package awsx_test

import (
	"context"
	"fmt"
	"time"

	"github.com/cutoverkit/cutover/internal/awsx"
)

// Poll waits on a clock: with a simulated clock no real time passes.
func ExamplePoll() {
	clock := &stepClock{now: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	state := []string{"pending", "pending", "available"}
	i := 0
	err := awsx.Poll(context.Background(), clock, 15*time.Second, 10*time.Minute, func(context.Context) (bool, error) {
		i++
		return state[i-1] == "available", nil
	})
	fmt.Println(err, clock.Now().Format(time.TimeOnly))
	// Output: <nil> 09:00:30
}
