package guestsim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// etcdVersion is what the simulated members report as their version.
const etcdVersion = "3.5.21"

// etcdMember is one control-plane node's etcd member, named after the node
// as kubeadm names them (KubeadmControlPlane matches members to Nodes by
// name).
type etcdMember struct {
	id   uint64
	name string
	ip   string
	// up: the node runs, so the member answers and may lead.
	up bool
}

// etcdCluster simulates a guest cluster's stacked etcd as KubeadmControlPlane
// sees it: the membership, the leader, and the calls it makes (Status,
// MemberList, AlarmList, MoveLeader, MemberRemove) over the port-forward
// to kube-system/etcd-<node> that a kubelet answers. The guest's data is
// not here: its API server keeps it in the shared etcd under its own
// prefix (apiserver.go). Membership lives in memory, like a VM's RAM, and
// is rebuilt from the running control-plane VMs after a restart.
type etcdCluster struct {
	pb.UnimplementedClusterServer
	pb.UnimplementedMaintenanceServer

	mu        sync.Mutex
	clusterID uint64
	leader    uint64
	members   map[string]*etcdMember
	// revision stands for the raft index: it moves with every change.
	revision int64

	server *grpc.Server
	conns  *pipeListener
}

// newEtcdCluster serves the cluster's members with cert (signed by the
// cluster's etcd CA) to clients presenting a certificate of that CA.
func newEtcdCluster(cert *certificate, etcdCA keyPair) *etcdCluster {
	e := &etcdCluster{clusterID: rand.Uint64() | 1, members: map[string]*etcdMember{}, conns: newPipeListener()}
	creds := credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{*cert.tls},
		ClientCAs:    pool(etcdCA),
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	})
	e.server = grpc.NewServer(grpc.Creds(creds))
	pb.RegisterClusterServer(e.server, e)
	pb.RegisterMaintenanceServer(e.server, e)
	go func() { _ = e.server.Serve(e.conns) }()
	return e
}

// close stops serving and cuts every connection.
func (e *etcdCluster) close() {
	e.server.Stop()
}

// dial connects to the member that node runs, as a port-forward to its
// client port does.
func (e *etcdCluster) dial(node string) (net.Conn, error) {
	e.mu.Lock()
	m, ok := e.members[node]
	up := ok && m.up
	e.mu.Unlock()
	if !up {
		return nil, fmt.Errorf("etcd member %s is not running", node)
	}
	return e.conns.dial()
}

// join adds node's member, or brings it back up; the first one founds
// the cluster and leads, and a cluster without a leader running elects
// this one.
func (e *etcdCluster) join(node, ip string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	m, ok := e.members[node]
	if !ok {
		m = &etcdMember{id: e.newID(), name: node}
		e.members[node] = m
	}
	m.ip, m.up = ip, true
	e.revision++
	if l := e.memberByID(e.leader); l == nil || !l.up {
		e.leader = m.id
	}
}

// stop marks node's member down (its VM is off); a leader hands over to a
// running member, as a real etcd elects a new leader when quorum allows.
func (e *etcdCluster) stop(node string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if m, ok := e.members[node]; ok {
		m.up = false
		e.electIfLeader(m.id)
	}
}

// remove drops node's member (its VM is gone).
func (e *etcdCluster) remove(node string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if m, ok := e.members[node]; ok {
		delete(e.members, node)
		e.revision++
		e.electIfLeader(m.id)
	}
}

// empty reports whether no member is left.
func (e *etcdCluster) empty() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.members) == 0
}

// electIfLeader makes another running member leader if id led; e.mu held.
func (e *etcdCluster) electIfLeader(id uint64) {
	if e.leader != id {
		return
	}
	e.leader = 0
	for _, m := range e.sortedMembers() {
		if m.up && m.id != id {
			e.leader = m.id
			return
		}
	}
}

func (e *etcdCluster) newID() uint64 {
	for {
		id := rand.Uint64()
		if id != 0 && e.memberByID(id) == nil {
			return id
		}
	}
}

func (e *etcdCluster) memberByID(id uint64) *etcdMember {
	for _, m := range e.members {
		if m.id == id {
			return m
		}
	}
	return nil
}

func (e *etcdCluster) sortedMembers() []*etcdMember {
	ms := make([]*etcdMember, 0, len(e.members))
	for _, m := range e.members {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b *etcdMember) int { return strings.Compare(a.name, b.name) })
	return ms
}

// self is the member a call reached: Cluster API's client names the
// endpoint etcd-<node>, which arrives as the :authority.
func (e *etcdCluster) self(ctx context.Context) (*etcdMember, *pb.ResponseHeader, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	node := strings.TrimPrefix(strings.Join(md.Get(":authority"), ""), "etcd-")
	node, _, _ = strings.Cut(node, ":")
	m, ok := e.members[node]
	if !ok || !m.up {
		return nil, nil, status.Errorf(codes.Unavailable, "etcd member %q is not running", node)
	}
	return m, &pb.ResponseHeader{ClusterId: e.clusterID, MemberId: m.id, Revision: e.revision, RaftTerm: 2}, nil
}

func (e *etcdCluster) MemberList(ctx context.Context, _ *pb.MemberListRequest) (*pb.MemberListResponse, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, header, err := e.self(ctx)
	if err != nil {
		return nil, err
	}
	resp := &pb.MemberListResponse{Header: header}
	for _, m := range e.sortedMembers() {
		resp.Members = append(resp.Members, &pb.Member{
			ID: m.id, Name: m.name,
			PeerURLs:   []string{"https://" + net.JoinHostPort(m.ip, "2380")},
			ClientURLs: []string{"https://" + net.JoinHostPort(m.ip, "2379")},
		})
	}
	return resp, nil
}

func (e *etcdCluster) MemberRemove(ctx context.Context, req *pb.MemberRemoveRequest) (*pb.MemberRemoveResponse, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, header, err := e.self(ctx)
	if err != nil {
		return nil, err
	}
	m := e.memberByID(req.ID)
	if m == nil {
		return nil, status.Error(codes.NotFound, "etcdserver: member not found")
	}
	if m.id == e.leader && len(e.members) > 1 {
		// etcd lets a leader remove itself only after handing over; KubeadmControlPlane moves it first.
		e.electIfLeader(m.id)
	}
	delete(e.members, m.name)
	e.revision++
	header.Revision = e.revision
	return &pb.MemberRemoveResponse{Header: header}, nil
}

func (e *etcdCluster) Status(ctx context.Context, _ *pb.StatusRequest) (*pb.StatusResponse, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, header, err := e.self(ctx)
	if err != nil {
		return nil, err
	}
	if e.leader == 0 {
		return nil, status.Error(codes.Unavailable, "etcdserver: no leader")
	}
	return &pb.StatusResponse{
		Header: header, Version: etcdVersion, Leader: e.leader,
		RaftIndex: uint64(e.revision), RaftTerm: 2, RaftAppliedIndex: uint64(e.revision),
		DbSize: 1 << 20, DbSizeInUse: 1 << 20,
	}, nil
}

func (e *etcdCluster) Alarm(ctx context.Context, _ *pb.AlarmRequest) (*pb.AlarmResponse, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, header, err := e.self(ctx)
	if err != nil {
		return nil, err
	}
	return &pb.AlarmResponse{Header: header}, nil
}

func (e *etcdCluster) MoveLeader(ctx context.Context, req *pb.MoveLeaderRequest) (*pb.MoveLeaderResponse, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	self, header, err := e.self(ctx)
	if err != nil {
		return nil, err
	}
	if self.id != e.leader {
		return nil, status.Error(codes.FailedPrecondition, "etcdserver: not leader")
	}
	target := e.memberByID(req.TargetID)
	if target == nil || !target.up {
		return nil, status.Error(codes.FailedPrecondition, "etcdserver: bad leader transferee")
	}
	e.leader = target.id
	return &pb.MoveLeaderResponse{Header: header}, nil
}

// pipeListener hands in-process connections to a server: port-forwards
// reach a member without a TCP port of its own.
type pipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

var errListenerClosed = errors.New("listener closed")

func (l *pipeListener) dial() (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		return nil, errListenerClosed
	}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "etcd" }
