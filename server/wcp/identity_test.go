package wcp

import (
	"context"
	"reflect"
	"testing"
)

func TestParseUsername(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Principal
		wantErr bool
	}{
		{in: "alice@vsphere.local", want: Principal{"alice", "vsphere.local"}},
		{in: `VSPHERE.LOCAL\Alice`, want: Principal{"Alice", "vsphere.local"}},
		{in: "alice", want: Principal{"alice", "vsphere.local"}},
		{in: " bob@Corp.Example.com ", want: Principal{"bob", "corp.example.com"}},
		{in: "first.last@upn.example.com@corp.local", want: Principal{"first.last@upn.example.com", "corp.local"}},
		{in: "", wantErr: true},
		{in: "@vsphere.local", wantErr: true},
		{in: "alice@", wantErr: true},
		{in: `CORP\`, wantErr: true},
		{in: `A\B\c`, wantErr: true},
	} {
		got, err := ParseUsername(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseUsername(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestIdentityClaims(t *testing.T) {
	id := Identity{User: "alice", Domain: "vsphere.local", Groups: []Principal{{"devs", "vsphere.local"}, {"Administrators", "vsphere.local"}, {"devs", "vsphere.local"}}}
	if got := id.GroupNames(); !reflect.DeepEqual(got, []string{"Administrators@vsphere.local", "devs@vsphere.local"}) {
		t.Errorf("GroupNames = %v", got)
	}
	if !id.InGroup(Principal{"ADMINISTRATORS", "VSphere.Local"}) {
		t.Error("group names are case-insensitive")
	}
	if got := (Identity{User: "carol", Domain: "vsphere.local"}).GroupNames(); got == nil || len(got) != 0 {
		t.Errorf("no groups is %#v, want an empty list (the claim is [] rather than null)", got)
	}
}

func TestStaticGroups(t *testing.T) {
	groups := StaticGroups{"Alice@vsphere.local": {devs}}
	got, err := groups.GroupsOf(context.Background(), Principal{"alice", "vsphere.local"})
	if err != nil || !reflect.DeepEqual(got, []Principal{devs}) {
		t.Errorf("GroupsOf(alice) = %v, %v", got, err)
	}
	if got, _ := groups.GroupsOf(context.Background(), Principal{"bob", "vsphere.local"}); len(got) != 0 {
		t.Errorf("GroupsOf(bob) = %v, want none", got)
	}
}
