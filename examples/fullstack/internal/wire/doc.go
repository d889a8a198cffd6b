// Package wire connects the domain packages where one needs another: the
// rollback controller, executor and Lambda act through dns, tracking and
// dms, which rollback may not import. The example program and the
// rollback Lambda's main both build their handler here, so the simulated
// cloud runs exactly the wiring that runs in AWS.
package wire
