package controller

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/cluster-api/util/patch"
	ctrl "sigs.k8s.io/controller-runtime"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	"github.com/open-supervisor/supervisor/internal/iprange"
	"github.com/open-supervisor/supervisor/lbapi/allocator"
	"github.com/open-supervisor/supervisor/lbapi/haproxy"
)

// collect lists the Services to serve and those to release, and takes the
// baseline of each one's status patch before any phase changes it.
func (r *Reconciler) collect(ctx context.Context, s *scope) error {
	serve, stale, err := r.served(ctx)
	if err != nil {
		return err
	}
	for _, svc := range serve {
		if svc.patcher, err = patch.NewHelper(svc.obj, r.Client); err != nil {
			return err
		}
	}
	s.serve = serve
	for _, svc := range stale {
		if !showsVIP(svc) {
			continue
		}
		if svc.patcher, err = patch.NewHelper(svc.obj, r.Client); err != nil {
			return err
		}
		s.released = append(s.released, svc)
	}
	return nil
}

// allocation is the VIPs of one sync.
type allocation struct {
	// vips: service key -> VIP.
	vips map[string]netip.Addr
	// refused: service key -> why it has no VIP.
	refused     map[string]error
	inUse, free int
}

// allocate gives every Service in serve (sorted by key) a VIP from ranges.
// It first rebuilds what is already handed out, so that no VIP moves and
// none is given twice:
//
//  1. the VIP each Service's status shows, in key order (a VIP two
//     Services claim stays with the first; one outside the ranges is
//     dropped);
//  2. for a Service whose status shows none, the VIP previous (the last
//     sync of this process) gave it, if nobody's status claims it: its
//     status write may be in flight, or not in the cache yet, or waiting
//     for the VIP to answer;
//
// then each Service gets the VIP it asks for (spec.loadBalancerIP or an
// annotation), which may move it, or keeps what it has, or gets the lowest
// free one. Neither serve nor previous is changed.
func allocate(ranges []iprange.Range, serve []*lbService, previous map[string]netip.Addr) allocation {
	alloc := allocator.New(ranges)
	fromStatus := map[string]bool{}
	for _, s := range serve {
		for _, ing := range s.status.Ingress {
			if vip, err := netip.ParseAddr(ing.IP); err == nil && alloc.Assign(s.key, vip) == nil {
				fromStatus[s.key] = true
			}
		}
	}
	for _, s := range serve {
		if vip, ok := previous[s.key]; ok && !fromStatus[s.key] {
			_ = alloc.Assign(s.key, vip) // taken meanwhile: it gets another below
		}
	}
	out := allocation{vips: map[string]netip.Addr{}, refused: map[string]error{}}
	for _, s := range serve {
		vip, err := vipFor(alloc, s)
		if err != nil {
			out.refused[s.key] = err
			continue
		}
		out.vips[s.key] = vip
	}
	out.inUse, out.free = alloc.InUse(), alloc.Free()
	return out
}

// vipFor is the VIP s asks for, or the one it has, or the lowest free one.
func vipFor(alloc *allocator.Allocator, s *lbService) (netip.Addr, error) {
	if want := s.requested; want != "" {
		// A refused request keeps what the Service holds reserved: its
		// status may still show it.
		vip, err := netip.ParseAddr(want)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("%s %q is not an IP address", s.requestedField, want)
		}
		if err := alloc.Assign(s.key, vip); err != nil {
			return netip.Addr{}, fmt.Errorf("%s: %w", s.requestedField, err)
		}
		return vip, nil
	}
	return alloc.Allocate(s.key)
}

// desiredProxies are the HAProxy proxies of every Service with a VIP, and
// the Service each belongs to (by proxy name).
func desiredProxies(serve []*lbService, vips map[string]netip.Addr) (map[string]haproxy.Proxy, map[string]*lbService) {
	desired := map[string]haproxy.Proxy{}
	owners := map[string]*lbService{}
	for _, s := range serve {
		vip, ok := vips[s.key]
		if !ok {
			continue
		}
		for _, p := range s.proxies(vip) {
			desired[p.Name] = p
			owners[p.Name] = s
		}
	}
	return desired, owners
}

// program makes HAProxy serve desired. When the appliance does not answer,
// the next sync connects anew, trying the servers from the first.
func (r *Reconciler) program(ctx context.Context, be *backend, desired map[string]haproxy.Proxy) (haproxy.Result, error) {
	res, err := be.applier.Apply(ctx, desired)
	if err != nil && isTransportError(err) {
		r.dropBackend()
	}
	return res, err
}

// reject takes back the VIP of each Service a proxy of which HAProxy
// refused, tells why, and returns their keys.
func (r *Reconciler) reject(refused map[string]error, owners map[string]*lbService) map[string]bool {
	names := make([]string, 0, len(refused))
	for name := range refused {
		names = append(names, name)
	}
	sort.Strings(names)
	rejected := map[string]bool{}
	for _, name := range names {
		s := owners[name]
		if s == nil || rejected[s.key] {
			continue
		}
		rejected[s.key] = true
		// A VIP published before its reload was confirmed is taken back.
		s.status.Ingress = nil
		r.refuse(s, lbv1.ReasonConfigRejected, "HAProxy rejected the configuration of "+name+": "+refused[name].Error())
	}
	return rejected
}

// loadedChecker says whether HAProxy is known to have loaded a proxy.
type loadedChecker interface {
	Loaded(haproxy.Proxy) bool
}

// publish writes the VIP of every Service that newly serves: once HAProxy
// loaded its proxies and its VIP accepts connections. The check of the VIP
// runs off this worker; until it finished the Service waits and the prober
// wakes the sync. It says whether a VIP did not answer in time, and
// whether a check still runs.
func (r *Reconciler) publish(ctx context.Context, serve []*lbService, vips map[string]netip.Addr, rejected map[string]bool, applier loadedChecker) (notAnswering, waiting bool) {
	checking := map[string]bool{}
	for _, s := range serve {
		vip, ok := vips[s.key]
		if !ok || rejected[s.key] || len(s.ports) == 0 || hasIngress(s, vip) || !allLoaded(applier, s.proxies(vip)) {
			continue
		}
		addr := net.JoinHostPort(vip.String(), strconv.Itoa(int(s.ports[0])))
		checking[s.key] = true
		switch r.prober.result(ctx, s.key, addr) {
		case probeAnswered:
			markServing(s, vip)
		case probeFailed:
			// Committed, but not served yet (or the reload failed).
			markNotAnswering(s, addr)
			notAnswering = true
		case probePending:
			waiting = true
			ctrl.LoggerFrom(ctx).V(4).Info("Waiting for the VIP to accept connections", "service", s.key, "address", addr)
		}
	}
	r.prober.retain(checking)
	return notAnswering, waiting
}

func allLoaded(applier loadedChecker, proxies []haproxy.Proxy) bool {
	for _, p := range proxies {
		if !applier.Loaded(p) {
			return false
		}
	}
	return true
}

// refuse reports why a Service gets no VIP: a condition, and a Warning
// Event when the reason is new.
func (r *Reconciler) refuse(s *lbService, reason, msg string) {
	if !markRefused(s, reason, msg) {
		return
	}
	refusalsTotal.WithLabelValues(reason).Inc()
	if r.Recorder != nil {
		r.Recorder.Eventf(s.obj, nil, corev1.EventTypeWarning, reason, "ServeVIP", "%s", msg)
	}
}
