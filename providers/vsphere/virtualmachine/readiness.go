package virtualmachine

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cluster-api/util/conditions"
	ctrl "sigs.k8s.io/controller-runtime"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/providers/vsphere/vmwatch"
)

// defaultProbeSeconds is a readiness probe's period and timeout when the
// spec gives none (vm-operator's defaults).
const defaultProbeSeconds = 10

// heartbeatRank orders VMware Tools' heartbeat colours, worst first.
var heartbeatRank = map[string]int{"gray": 0, "red": 1, "yellow": 2, "green": 3}

// probeReadiness runs spec.readinessProbe on a VM otherwise Ready: Ready
// stays True only while it passes, as vm-operator's prober decides. The
// probe runs again after its period.
func (r *Reconciler) probeReadiness(ctx context.Context, vm *vmopv1.VirtualMachine, found vmwatch.VM) (ctrl.Result, error) {
	p := vm.Spec.ReadinessProbe
	if p == nil {
		return ctrl.Result{}, nil
	}
	period := time.Duration(p.PeriodSeconds) * time.Second
	if period <= 0 {
		period = defaultProbeSeconds * time.Second
	}
	res := ctrl.Result{RequeueAfter: period}
	if !conditions.IsTrue(vm, vmopv1.VirtualMachineConditionReady) {
		return res, nil // not running or no address yet: nothing to probe
	}
	failure, err := r.probe(ctx, vm, found, p)
	if err != nil {
		return ctrl.Result{}, err
	}
	if failure != "" {
		conditions.Set(vm, metav1.Condition{Type: vmopv1.VirtualMachineConditionReady, Status: metav1.ConditionFalse,
			Reason: vmopv1.VirtualMachineReadinessProbeFailedReason, Message: "spec.readinessProbe: " + failure})
	}
	return res, nil
}

// probe says why the probe fails ("" when it passes).
func (r *Reconciler) probe(ctx context.Context, vm *vmopv1.VirtualMachine, found vmwatch.VM, p *vmopv1.VirtualMachineReadinessProbeSpec) (string, error) {
	switch {
	case p.TCPSocket != nil:
		host := p.TCPSocket.Host
		if host == "" && vm.Status.Network != nil {
			host = vm.Status.Network.PrimaryIP4
		}
		port := p.TCPSocket.Port.String()
		if _, err := strconv.Atoi(port); err != nil {
			return fmt.Sprintf("tcpSocket.port %q is not a port number", port), nil
		}
		timeout := time.Duration(p.TimeoutSeconds) * time.Second
		if timeout <= 0 {
			timeout = defaultProbeSeconds * time.Second
		}
		d := net.Dialer{Timeout: timeout}
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
		if err != nil {
			return fmt.Sprintf("tcpSocket: %v", err), nil
		}
		_ = conn.Close()
		return "", nil
	case p.GuestHeartbeat != nil:
		guest, err := r.vcenter.ReadGuest(ctx, found.Ref)
		if err != nil {
			return "", err
		}
		threshold := string(p.GuestHeartbeat.ThresholdStatus)
		if threshold == "" {
			threshold = string(vmopv1.GreenHeartbeatStatus)
		}
		if heartbeatRank[guest.Heartbeat] < heartbeatRank[threshold] {
			return fmt.Sprintf("guestHeartbeat: VMware Tools' heartbeat is %q, below %q", guest.Heartbeat, threshold), nil
		}
		return "", nil
	case len(p.GuestInfo) > 0:
		guest, err := r.vcenter.ReadGuest(ctx, found.Ref)
		if err != nil {
			return "", err
		}
		for i, gi := range p.GuestInfo {
			v, ok := guest.ExtraConfig["guestinfo."+gi.Key]
			if !ok {
				return fmt.Sprintf("guestInfo[%d]: guestinfo.%s is not set", i, gi.Key), nil
			}
			if gi.Value == "" {
				continue
			}
			rx, err := regexp.Compile(gi.Value)
			if err != nil {
				continue // vm-operator takes a bad expression as a wildcard; the webhook refuses it
			}
			if !rx.MatchString(v) {
				return fmt.Sprintf("guestInfo[%d]: guestinfo.%s is %q, which does not match %q", i, gi.Key, v, gi.Value), nil
			}
		}
		return "", nil
	}
	return "", nil
}
