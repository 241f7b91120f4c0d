package controller

import (
	"errors"
	"net"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
)

func TestSetLoadBalancerStatus(t *testing.T) {
	be := &backend{apiVersion: "v3", server: "https://127.0.0.1:5556"}
	unreachable := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	cases := []struct {
		name        string
		o           observation
		wantStatus  metav1.ConditionStatus
		wantReason  string
		wantMessage string
		wantError   string
		wantAPI     string
	}{
		{"served", observation{be: be, inUse: 2, free: 9}, metav1.ConditionTrue, lbv1.ReasonReachable, "Data Plane API v3 at https://127.0.0.1:5556", "", "v3"},
		{"no server answers", observation{err: unreachable}, metav1.ConditionFalse, lbv1.ReasonUnreachable, unreachable.Error(), unreachable.Error(), "v2"},
		{"the connection broke while programming", observation{be: be, inUse: 2, free: 9, err: unreachable}, metav1.ConditionFalse, lbv1.ReasonUnreachable, unreachable.Error(), unreachable.Error(), "v3"},
		{"the API answered but refused", observation{be: be, inUse: 2, free: 9, err: errors.New("POST /x: 500 boom")}, metav1.ConditionTrue, lbv1.ReasonReachable, "Data Plane API v3 at https://127.0.0.1:5556", "POST /x: 500 boom", "v3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lb := &lbv1.LoadBalancer{ObjectMeta: metav1.ObjectMeta{Generation: 4}}
			lb.Status.APIVersion, lb.Status.LastError = "v2", "an old error"
			setLoadBalancerStatus(lb, tc.o)
			c := meta.FindStatusCondition(lb.Status.Conditions, lbv1.ConditionDataPlaneAPIReachable)
			if c == nil || c.Status != tc.wantStatus || c.Reason != tc.wantReason || c.Message != tc.wantMessage || c.ObservedGeneration != 4 {
				t.Errorf("condition %+v, want %s/%s %q", c, tc.wantStatus, tc.wantReason, tc.wantMessage)
			}
			if lb.Status.LastError != tc.wantError || lb.Status.APIVersion != tc.wantAPI {
				t.Errorf("lastError %q apiVersion %q, want %q %q", lb.Status.LastError, lb.Status.APIVersion, tc.wantError, tc.wantAPI)
			}
			if lb.Status.VIPsInUse != int32(tc.o.inUse) || lb.Status.VIPsFree != int32(tc.o.free) {
				t.Errorf("VIPs %d/%d, want %d/%d", lb.Status.VIPsInUse, lb.Status.VIPsFree, tc.o.inUse, tc.o.free)
			}
		})
	}
}

func TestServiceStatus(t *testing.T) {
	vip := netip.MustParseAddr("127.30.0.1")
	newVMService := func() *lbService {
		s := &vmopv1.VirtualMachineService{ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: "web", Generation: 3}}
		return fromVMService(s, nil)
	}
	newService := func() *lbService {
		return fromService(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: "web", Generation: 3}}, nil)
	}
	ready := func(s *lbService) *metav1.Condition {
		return meta.FindStatusCondition(*s.conditions, lbv1.ConditionLoadBalancerReady)
	}

	// Serving: the VIP and a True condition; a core Service's ingress is a VIP.
	s := newVMService()
	markServing(s, vip)
	if c := ready(s); len(s.status.Ingress) != 1 || s.status.Ingress[0].IP != "127.30.0.1" || s.status.Ingress[0].IPMode != nil ||
		c.Status != metav1.ConditionTrue || c.Reason != lbv1.ReasonVIPServing || c.ObservedGeneration != 3 {
		t.Fatalf("serving: %+v %+v", s.status, c)
	}
	core := newService()
	markServing(core, vip)
	if m := core.status.Ingress[0].IPMode; m == nil || *m != corev1.LoadBalancerIPModeVIP {
		t.Fatalf("a core Service's ingress must say ipMode VIP: %+v", core.status.Ingress[0])
	}

	// A refusal is news once: the second identical one raises no Event.
	if !markRefused(s, lbv1.ReasonVIPUnavailable, "no free VIP") || markRefused(s, lbv1.ReasonVIPUnavailable, "no free VIP") {
		t.Fatal("want the first refusal reported as a change and the repeat not")
	}
	if c := ready(s); c.Status != metav1.ConditionFalse || c.Message != "no free VIP" {
		t.Fatalf("refused: %+v", c)
	}

	markNotAnswering(s, "127.30.0.1:80")
	if c := ready(s); c.Reason != lbv1.ReasonVIPNotAnswering || c.Status != metav1.ConditionFalse {
		t.Fatalf("not answering: %+v", c)
	}

	// Released: lbapi's VIP and condition leave, other conditions stay.
	meta.SetStatusCondition(s.conditions, metav1.Condition{Type: "SomeoneElses", Status: metav1.ConditionTrue, Reason: "Theirs"})
	if !showsVIP(s) {
		t.Fatal("a Service with lbapi's VIP shows it")
	}
	markReleased(s)
	if showsVIP(s) || len(s.status.Ingress) != 0 || meta.FindStatusCondition(*s.conditions, "SomeoneElses") == nil {
		t.Fatalf("released: %+v", s.status)
	}
}
