package inventory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// WaitTask waits for a task by reading its state, starting at 50 ms and
// backing off to 1 s. govmomi's Task.Wait puts a filter on the session's
// shared property collector, which many reconciles at once cannot share
// (and which vcsim crashes on); one read per step needs no collector.
func WaitTask(ctx context.Context, task *object.Task) error {
	pc := property.DefaultCollector(task.Client())
	delay := 50 * time.Millisecond
	for {
		var t mo.Task
		if err := pc.RetrieveOne(ctx, task.Reference(), []string{"info.state", "info.error"}, &t); err != nil {
			if fault.Is(err, &types.ManagedObjectNotFound{}) {
				return nil // vCenter forgets finished tasks
			}
			return fmt.Errorf("failed to read task %s: %w", task.Reference().Value, err)
		}
		switch t.Info.State {
		case types.TaskInfoStateSuccess:
			return nil
		case types.TaskInfoStateError:
			if t.Info.Error != nil {
				return taskError{t.Info.Error}
			}
			return errors.New("task failed")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// taskError keeps the fault so callers can test it with fault.Is.
type taskError struct{ *types.LocalizedMethodFault }

func (e taskError) Error() string { return e.LocalizedMessage }

// Fault returns the task's fault.
func (e taskError) Fault() types.BaseMethodFault { return e.LocalizedMethodFault.Fault }
