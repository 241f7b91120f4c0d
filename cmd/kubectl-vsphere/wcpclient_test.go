package main

import (
	"encoding/json"
	"testing"
)

func TestWorkloadReadsTheMisspeltPortAsStringOrNumber(t *testing.T) {
	for _, body := range []string{
		`{"namespace": "dev", "master_host": "10.0.0.1", "conrol_plane_api_server_port": "6443"}`,
		`{"namespace": "dev", "master_host": "10.0.0.1", "conrol_plane_api_server_port": 6443}`,
	} {
		var w workload
		if err := json.Unmarshal([]byte(body), &w); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if w.APIServerPort != "6443" || w.MasterHost != "10.0.0.1" || w.Namespace != "dev" {
			t.Errorf("%s decoded as %+v", body, w)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	cases := map[string]string{
		`{"error": "unauthenticated", "message": "the user name or password is incorrect"}`: "the user name or password is incorrect",
		`{"error": "unauthenticated"}`: "unauthenticated",
		"Unauthorized\nmore detail":    "Unauthorized",
		"\x1b[2Jwipe the screen":       "[2Jwipe the screen",
		"":                             "",
	}
	for body, want := range cases {
		if got := errorMessage([]byte(body)); got != want {
			t.Errorf("errorMessage(%q) = %q, want %q", body, got, want)
		}
	}
}

func TestBannerText(t *testing.T) {
	cases := map[string]string{
		"Authorized use only.\n": "Authorized use only.",
		`"Authorized use only."`: "Authorized use only.",
		"":                       "",
	}
	for body, want := range cases {
		if got := bannerText([]byte(body)); got != want {
			t.Errorf("bannerText(%q) = %q, want %q", body, got, want)
		}
	}
	if got := printableBanner("line 1\n\tline 2\x1b[31m\a"); got != "line 1\n\tline 2[31m" {
		t.Errorf("printableBanner kept control characters: %q", got)
	}
}

func TestDecodeGuestCA(t *testing.T) {
	ca, err := decodeGuestCA(encodeBase64(testGuestCA))
	if err != nil || string(ca) != testGuestCA {
		t.Errorf("decodeGuestCA = %q, %v", ca, err)
	}
	if ca, err := decodeGuestCA(""); err != nil || ca != nil {
		t.Errorf("an empty CA: %q, %v", ca, err)
	}
	for _, bad := range []string{"not base64!", encodeBase64("not a PEM")} {
		if _, err := decodeGuestCA(bad); err == nil {
			t.Errorf("decodeGuestCA(%q) succeeded", bad)
		}
	}
}
