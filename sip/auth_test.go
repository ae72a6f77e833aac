package sip

import "testing"

// TestAgentQuirk: clients that stop at a SHA-256 challenge get MD5 offered their way.
func TestAgentQuirk(t *testing.T) {
	for ua, want := range map[string]digestQuirk{
		"sipp":                           quirkMD5First,
		"SIPp interop":                   quirkMD5First,
		"baresip v1.0.0 (x86_64/linux)":  quirkMD5Only,
		"baresip v3.10.1 (x86_64/Linux)": quirkMD5Only,
		"baresip v3.11.0 (x86_64/Linux)": quirkNone,
		"baresip v4.0.0":                 quirkNone,
		"baresip":                        quirkNone,
		"Yealink SIP-T46U 108.86.0.20":   quirkNone,
		"":                               quirkNone,
	} {
		if got := agentQuirk(ua); got != want {
			t.Errorf("agentQuirk(%q) = %v, want %v", ua, got, want)
		}
	}
}
